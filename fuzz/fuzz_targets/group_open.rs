//! cargo-fuzz target; its logic and checks are in `fuzz/logic/group_open.rs`.
#![no_main]

#[path = "../logic/fixture.rs"]
mod fixture;
#[path = "../logic/group_open.rs"]
mod logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| logic::check(data));
