//! The invalid cases of `envelope.json` replayed through `Account::receive`
//! (SPEC.md §13.1): a receiver gets the error each vector names, and a refusal
//! changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::account::{Account, ReceiveError};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

fn address(user: &str, device: u32) -> DeviceAddress {
    DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(device))
}

/// Bob's account (a primary), holding Alice's device list and bundle.
fn bob() -> Account {
    let mut rng = ChaCha20Rng::from_seed([15; 32]);
    let mut alice = Account::create_primary(&mut rng, now(), address("alice", 1));
    let mut bob = Account::create_primary(&mut rng, now(), address("bob", 1));
    let alice_uploads = alice.uploads(&mut rng, now()).unwrap();
    for e in &bob.uploads(&mut rng, now()).unwrap() {
        alice.receive(now(), e).unwrap();
    }
    for e in &alice_uploads {
        bob.receive(now(), e).unwrap();
    }
    bob
}

/// `receive` refuses `envelope` and leaves the account byte for byte as it was.
fn refused(account: &mut Account, envelope: &[u8]) -> ReceiveError {
    let before = account.hazmat_state_bytes().unwrap();
    let error = match account.receive(now(), envelope) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    assert_eq!(
        *before,
        *account.hazmat_state_bytes().unwrap(),
        "a refusal changed the account ({error})"
    );
    error
}

/// Each invalid case of `test-vectors/envelope.json`, given to an account,
/// is refused with the receiver error its name starts with.
#[test]
fn the_envelope_vectors_name_the_receivers_error() {
    let path = letterseal_vectors::data_dir().join("envelope.json");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut bob = bob();
    let mut checked = 0;
    for case in file["tests"].as_array().unwrap() {
        let envelope = hex::decode(case["input"]["envelope"].as_str().unwrap()).unwrap();
        if case["result"] == "valid" {
            continue;
        }
        let expected = case["error"].as_str().unwrap();
        let (layer, inner) = expected.split_once('.').unwrap();
        let e = refused(&mut bob, &envelope);
        assert_eq!(e.name(), layer, "tcId {}: {e:?}", case["tcId"]);
        let inner_name = match &e {
            ReceiveError::Envelope(x) => x.name(),
            ReceiveError::DeviceList(x) => x.name(),
            ReceiveError::Registration(x) => x.name(),
            ReceiveError::Group(x) => x.name(),
            other => panic!("tcId {}: {other:?}", case["tcId"]),
        };
        assert_eq!(inner_name, inner, "tcId {}", case["tcId"]);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} invalid cases");
}
