//! cargo-fuzz target; its logic and checks are in `fuzz/logic/state_deserialize.rs`.
#![no_main]

#[path = "../logic/state_deserialize.rs"]
mod logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| logic::check(data));
