//! Limits that ordinary traffic cannot reach in a test (2^32 messages on one
//! chain), set up by editing a session's state directly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::pq_tests::{device, now};
use super::{ContentType, SealError, Session};

/// A sending chain whose next number is `u32::MAX` is used up: sealing on it
/// is `CounterExhausted` and changes nothing, while the other chain still
/// seals.
#[test]
fn an_exhausted_sending_chain_refuses_to_seal() {
    let mut rng = ChaCha20Rng::from_seed([0x4c; 32]);
    let (alice, _) = device(&mut rng, "alice");
    let (_, bob_bundle) = device(&mut rng, "bob");
    let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    at_alice
        .seal(&alice, &mut rng, now(), ContentType::Text, b"start", b"")
        .unwrap();
    let sending = at_alice.slots[0].state.sending.as_mut().unwrap();
    sending.message.next = u32::MAX;
    let clock = at_alice.clock;
    assert_eq!(
        at_alice
            .seal(&alice, &mut rng, now(), ContentType::Text, b"one more", b"")
            .unwrap_err(),
        SealError::CounterExhausted
    );
    assert_eq!(at_alice.clock, clock);
    let sending = at_alice.slots[0].state.sending.as_ref().unwrap();
    assert_eq!(sending.message.next, u32::MAX);
    // The control chain has its own numbers.
    at_alice
        .seal(
            &alice,
            &mut rng,
            now(),
            ContentType::GroupKey,
            &[7; 32],
            b"",
        )
        .unwrap();
}
