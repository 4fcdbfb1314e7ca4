//! End-to-end tests: a real server on loopback, real encrypted phone stores, the real sync
//! client and protocol.
#![allow(unreachable_pub)]

mod access;
mod agency;
mod assignment;
mod bombs;
mod console_assign;
mod console_browser;
mod cuts;
mod durability;
mod home_visit;
mod insiders;
mod interop;
mod limits;
mod log_injection;
mod postgres;
mod security;
mod shutdown;
mod storage_contract;
mod tls;
mod wire;
