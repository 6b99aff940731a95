//! cargo-fuzz target; its logic and checks are in `fuzz/logic/account_conversation.rs`.
#![no_main]

#[path = "../logic/account_conversation.rs"]
mod logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| logic::check(data));
