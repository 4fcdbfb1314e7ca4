//! End-to-end tests: a real server on loopback, real encrypted phone stores, the real sync
//! client and protocol.
#![allow(unreachable_pub)]

mod access;
mod agency;
mod assignment;
mod at_rest;
mod attachments;
mod audit;
mod bombs;
mod compat;
mod console_a11y;
mod console_assign;
mod console_bidi;
mod console_browser;
mod console_conflicts;
mod console_directory;
mod console_keyboard;
mod console_print;
mod console_record;
mod console_reports;
mod crash;
mod cuts;
mod deadlines;
mod directory;
mod duplicates;
mod durability;
mod erasure;
mod home_visit;
mod insiders;
mod interop;
mod limits;
mod log_injection;
mod memory;
mod partner_link;
mod people;
mod pg_commands;
mod phone_client;
mod postgres;
mod security;
mod shutdown;
mod storage_contract;
mod tls;
mod update_app;
mod wire;
