//! Integration tests of fieldcase-core: one binary, one module per topic.
#![allow(unreachable_pub)]

mod area;
mod attachments;
mod case;
mod compat;
mod convergence;
mod fixtures;
mod forward_compat;
mod fuzz;
mod links;
mod matching;
mod merge;
mod plan;
mod process;
mod process_admission;
mod referrals;
mod salvage;
mod stage;
mod store;
mod supervision;
mod validation;
