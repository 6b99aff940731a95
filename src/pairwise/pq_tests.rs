//! The post-quantum claims of SPEC.md §7.5–7.6, acted out: an adversary who
//! knows every X25519 secret (a quantum computer recovers them from the
//! public keys) but no ML-KEM-768 secret recomputes the keys of (a) the first
//! message of a session and (b) the first message after a KEM step, and
//! fails; with the one ML-KEM shared secret it lacks, the same computation
//! opens the message (so the recomputation is the protocol's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::header::Header;
use super::kdf::{InitialSecrets, PartyKeys, initial_keys};
use super::session::{Session, init_context};
use super::{ContentType, RatchetPolicy};
use crate::aead::{self, TAG_LEN};
use crate::codec::Reader;
use crate::device::DeviceKeys;
use crate::ids::{DeviceAddress, DeviceId, UserId};
use crate::keys::{KemSharedSecret, SealingPublicKey};
use crate::message::keys::ChainKey;
use crate::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use crate::time::Timestamp;

pub(super) fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

pub(super) fn device(rng: &mut ChaCha20Rng, user: &str) -> (DeviceKeys, VerifiedBundle) {
    let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(rng, address.clone());
    let bundle = keys
        .add_sealing_key(rng, now(), 86_400)
        .verify(
            &address.into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    (keys, bundle)
}

/// Opens `message`'s body with the keys of message secret `n` of `chain`,
/// as a receiver would, or `None` if the commitment or the tag fails.
fn open_with(chain: &ChainKey, message: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(message);
    let header = Header::decode(&mut r).unwrap();
    let header_len = message.len() - r.remaining();
    let mut key = chain.clone();
    for _ in 0..header.n {
        key = key.step().1;
    }
    let keys = key.step().0.message_keys(&header.salt);
    if !keys.commitment_matches(&header.commitment) {
        return None;
    }
    let (head, body) = message.split_at(header_len);
    let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
    let mut plaintext = ciphertext.to_vec();
    let aad = aead::header_and_associated(head, b"");
    aead::open_in_place_detached(
        &keys.aead_key,
        &keys.nonce,
        &aad,
        &mut plaintext,
        tag.try_into().unwrap(),
    )
    .ok()?;
    Some(plaintext)
}

fn header(message: &[u8]) -> Header {
    Header::decode(&mut Reader::new(message)).unwrap()
}

#[test]
fn the_first_message_needs_the_responders_ml_kem_secret() {
    let mut rng = ChaCha20Rng::from_seed([0x51; 32]);
    let (alice, _) = device(&mut rng, "alice");
    let (bob, bob_bundle) = device(&mut rng, "bob");
    let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    let first = at_alice
        .seal(&alice, &mut rng, now(), ContentType::Text, b"hello", b"")
        .unwrap();
    let h = header(&first);
    let init = h.init.clone().unwrap();

    // Every X25519 secret: both sealing keys and Alice's ephemeral (her first ratchet key).
    let alice_sealing = alice
        .sealing_key(&alice.current_sealing_key_id().unwrap())
        .unwrap();
    let bob_id = bob.current_sealing_key_id().unwrap();
    let bob_sealing = bob.sealing_key(&bob_id).unwrap();
    let ephemeral = &at_alice.slots[0].state.own.as_ref().unwrap().secret;
    let dh1 = alice_sealing.agree(bob_bundle.sealing_key()).unwrap();
    let dh2 = ephemeral.agree(bob_bundle.sealing_key()).unwrap();
    assert_eq!(
        dh2.as_bytes(),
        bob_sealing.agree(&h.ratchet_key).unwrap().as_bytes()
    );
    let alice_public = alice_sealing.public_key();
    let context = init_context(
        &PartyKeys {
            address: alice.address(),
            identity_key: &alice.identity().public_key(),
            sealing_key: &alice_public,
        },
        &PartyKeys {
            address: bob.address(),
            identity_key: &bob.identity().public_key(),
            sealing_key: bob_bundle.sealing_key(),
        },
        &h.ratchet_key,
        None,
        &init.kem_key_id,
        init.kem_ciphertext.as_bytes(),
    );
    let recompute = |kem: &KemSharedSecret| {
        initial_keys(
            &InitialSecrets {
                static_static: &dh1,
                ephemeral_static: &dh2,
                one_time: None,
                kem,
            },
            &context,
        )
        .message
    };

    // With Bob's ML-KEM secret the recomputation opens the message ...
    let true_secret = bob
        .kem_key(&bob_id)
        .unwrap()
        .decapsulate(&init.kem_ciphertext);
    assert_eq!(
        open_with(&recompute(&true_secret), &first).as_deref(),
        Some(&b"hello"[..])
    );
    // ... without it, no guess of the shared secret does.
    for guess in [[0u8; 32], [0xff; 32], *alice_public.as_bytes()] {
        assert_eq!(
            open_with(&recompute(&KemSharedSecret::from_bytes(guess)), &first),
            None
        );
    }
}

#[test]
fn a_kem_step_locks_out_an_adversary_with_every_classical_secret() {
    let mut rng = ChaCha20Rng::from_seed([0x52; 32]);
    let (mut alice, alice_bundle) = device(&mut rng, "alice");
    let (mut bob, bob_bundle) = device(&mut rng, "bob");
    // A KEM step at every sending step.
    let policy = RatchetPolicy {
        kem_every_steps: 1,
        ..RatchetPolicy::default()
    };
    let mut at_alice = Session::new(&alice, &bob_bundle)
        .unwrap()
        .with_policy(policy)
        .unwrap();
    let mut at_bob = Session::new(&bob, &alice_bundle)
        .unwrap()
        .with_policy(policy)
        .unwrap();
    let start = at_alice
        .seal(&alice, &mut rng, now(), ContentType::Text, b"start", b"")
        .unwrap();
    at_bob.open(&mut bob, now(), &start, b"").unwrap();

    // The adversary copies Alice's classical state now: her root key and her
    // ratchet private key (it also knows every X25519 secret to come).
    let state = &at_alice.slots[0].state;
    let root = state.root.clone();
    let own = state.own.as_ref().unwrap().secret.to_bytes();

    // Bob's reply is a sending step with a KEM step to Alice's bundle KEM key.
    let reply = at_bob
        .seal(
            &bob,
            &mut rng,
            now(),
            ContentType::Text,
            b"after the step",
            b"",
        )
        .unwrap();
    let h = header(&reply);
    let kem = h.kem_step.clone().expect("a KEM step");
    let dh = crate::keys::SealingSecretKey::from_bytes(&own)
        .agree(&h.ratchet_key)
        .unwrap();
    let recompute = |ss: &[u8; 32]| root.step(dh.as_bytes(), Some(ss)).message;

    let alice_kem = alice
        .kem_key(&alice.current_sealing_key_id().unwrap())
        .unwrap();
    assert_eq!(alice_kem.key_id(), kem.kem_key_id);
    let true_secret = alice_kem.decapsulate(&kem.kem_ciphertext);
    assert_eq!(
        open_with(&recompute(true_secret.as_bytes()), &reply).as_deref(),
        Some(&b"after the step"[..])
    );
    for guess in [
        [0u8; 32],
        [0x42; 32],
        *SealingPublicKey::from_bytes([9; 32]).as_bytes(),
    ] {
        assert_eq!(open_with(&recompute(&guess), &reply), None);
    }
    // Alice herself opens it.
    assert_eq!(
        at_alice
            .open(&mut alice, now(), &reply, b"")
            .unwrap()
            .plaintext
            .as_slice(),
        b"after the step"
    );
}
