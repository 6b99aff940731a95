//! cargo-fuzz target; its logic and checks are in `fuzz/logic/legacy_open.rs`.
#![no_main]

#[path = "../logic/fixture.rs"]
mod fixture;
#[path = "../logic/legacy_open.rs"]
mod logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| logic::check(data));
