//! cargo-fuzz target; its logic and checks are in `fuzz/logic/sealing_key_checks.rs`.
#![no_main]

#[path = "../logic/fixture.rs"]
mod fixture;
#[path = "../logic/sealing_key_checks.rs"]
mod logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| logic::check(data));
