//! The device-key state, layout 3 (SPEC.md §12.2): ML-KEM seeds, one-time keys and
//! consumed ids survive a sealed round trip; layout-2 blobs are refused; every
//! invariant of the layout is checked on import, naming the field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::device::{DEVICE_BLOB_VERSION, DeviceKeys};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{IdentitySecretKey, KemDecapsulationKey, SealingKeyId, SealingSecretKey};
use letterseal::state::{self, StateError, StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

fn key() -> StorageKey {
    StorageKey::from_bytes([0x4b; 32])
}

/// A device with two sealing keys (one retired), three one-time keys (one used).
fn device() -> (DeviceKeys, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::from_seed([61; 32]);
    let address = DeviceAddress::new(UserId::new("dana").unwrap(), DeviceId::new(4));
    let mut keys = DeviceKeys::generate(&mut rng, address);
    let old = keys.add_sealing_key(&mut rng, now(), 30 * DAY);
    keys.add_sealing_key(&mut rng, now().saturating_add(60), 30 * DAY);
    assert!(keys.retire(old.content().sealing_key_id));
    keys.add_sealing_key(&mut rng, now().saturating_add(120), 30 * DAY);
    let one_time = keys.add_one_time_keys(&mut rng, 3, now(), 7 * DAY);
    assert!(keys.consume_one_time_key(one_time[0].content().key_id));
    (keys, rng)
}

#[test]
fn kem_keys_one_time_keys_and_consumed_ids_round_trip() {
    let (mut keys, mut rng) = device();
    let blob = keys.export(&mut rng, &key()).unwrap();
    let restored = DeviceKeys::import(&key(), blob.as_bytes(), 1).unwrap();
    let live: Vec<SealingKeyId> = keys.live_key_ids().copied().collect();
    assert_eq!(live.len(), 2);
    assert_eq!(restored.live_key_ids().copied().collect::<Vec<_>>(), live);
    for id in &live {
        let (a, b) = (keys.kem_key(id).unwrap(), restored.kem_key(id).unwrap());
        assert_eq!(*a.to_seed(), *b.to_seed());
        assert_eq!(a.encapsulation_key(), b.encapsulation_key());
        // The restored device re-signs the same bundles (same KEM keys).
        assert_eq!(keys.bundle(id), restored.bundle(id));
        // And decapsulates what was encapsulated to the published key.
        let (ct, ss) = a.encapsulation_key().encapsulate(&mut rng);
        assert_eq!(b.decapsulate(&ct).as_bytes(), ss.as_bytes());
    }
    let one_time: Vec<SealingKeyId> = keys.one_time_key_ids().copied().collect();
    assert_eq!(one_time.len(), 2);
    assert_eq!(
        restored.one_time_key_ids().copied().collect::<Vec<_>>(),
        one_time
    );
    for id in &one_time {
        assert_eq!(
            keys.one_time_key_bundle(id),
            restored.one_time_key_bundle(id)
        );
        assert_eq!(
            keys.one_time_key_validity(id),
            restored.one_time_key_validity(id)
        );
    }
    // At the one-time keys' not_after, both unused keys and the consumed id expire.
    let mut again = DeviceKeys::import(&key(), blob.as_bytes(), 1).unwrap();
    assert_eq!(again.expire(now().saturating_add(7 * DAY)), 3);
    assert_eq!(again.one_time_key_ids().count(), 0);
}

#[test]
fn a_consumed_id_survives_the_round_trip() {
    let mut rng = ChaCha20Rng::from_seed([62; 32]);
    let address = DeviceAddress::new(UserId::new("erin").unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(&mut rng, address);
    let uploads = keys.add_one_time_keys(&mut rng, 1, now(), DAY);
    let id = uploads[0].content().key_id;
    assert!(keys.consume_one_time_key(id));
    let blob = keys.export(&mut rng, &key()).unwrap();
    let restored = DeviceKeys::import(&key(), blob.as_bytes(), 1).unwrap();
    assert!(restored.is_consumed_one_time_key(&id));
    assert!(restored.one_time_key(&id).is_none());
}

#[test]
fn layout_2_blobs_are_refused() {
    assert_eq!(DEVICE_BLOB_VERSION, 3);
    let (mut keys, mut rng) = device();
    let blob = keys.export(&mut rng, &key()).unwrap().into_bytes();
    // The layout version in the header is refused before the key is even tried.
    let mut old = blob.clone();
    old[2..4].copy_from_slice(&2u16.to_be_bytes());
    assert_eq!(
        DeviceKeys::import(&key(), &old, 0).map(|_| ()),
        Err(StateError::UnsupportedStateVersion {
            kind: StateKind::DeviceKeys,
            version: 2
        })
    );
    // A genuine layout-2 payload (release 0.1: no KEM seed, no one-time lists), sealed
    // correctly as layout 2, is refused the same way.
    let mut payload = Payload::new();
    payload.list(1);
    payload.sealing(&[0x11; 32], None, T0, T0 + DAY);
    payload.list(0); // retired
    let layout2 = state::seal_raw(StateKind::DeviceKeys, 2, 1, &payload.0, &mut rng, &key());
    assert_eq!(
        DeviceKeys::import(&key(), layout2.as_bytes(), 0).map(|_| ()),
        Err(StateError::UnsupportedStateVersion {
            kind: StateKind::DeviceKeys,
            version: 2
        })
    );
}

/// A layout-3 payload written field by field.
struct Payload(Vec<u8>);

impl Payload {
    /// `address ‖ identity seed`, then the caller appends the lists.
    fn new() -> Self {
        let mut v = vec![4];
        v.extend_from_slice(b"dana");
        v.extend_from_slice(&4u32.to_be_bytes());
        v.extend_from_slice(&[0x77; 32]);
        Self(v)
    }

    fn list(&mut self, n: u32) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }

    fn sealing(&mut self, secret: &[u8; 32], kem_seed: Option<&[u8; 64]>, nb: u64, na: u64) {
        self.0.extend_from_slice(secret);
        if let Some(seed) = kem_seed {
            self.0.extend_from_slice(seed);
        }
        self.0.extend_from_slice(&nb.to_be_bytes());
        self.0.extend_from_slice(&na.to_be_bytes());
    }

    fn one_time(&mut self, secret: &[u8; 32], nb: u64, na: u64) {
        self.0.extend_from_slice(secret);
        self.0.extend_from_slice(&nb.to_be_bytes());
        self.0.extend_from_slice(&na.to_be_bytes());
    }

    fn id(&mut self, id: &SealingKeyId) {
        self.0.extend_from_slice(id.as_bytes());
    }

    fn consumed(&mut self, id: &SealingKeyId, na: u64) {
        self.id(id);
        self.0.extend_from_slice(&na.to_be_bytes());
    }

    fn import(&self) -> Result<DeviceKeys, StateError> {
        let mut rng = ChaCha20Rng::from_seed([63; 32]);
        let blob = state::seal_raw(
            StateKind::DeviceKeys,
            DEVICE_BLOB_VERSION,
            1,
            &self.0,
            &mut rng,
            &key(),
        );
        DeviceKeys::import(&key(), blob.as_bytes(), 0)
    }
}

/// Sealing secrets in ascending key-id order.
fn sorted_secrets(n: usize) -> Vec<([u8; 32], SealingKeyId)> {
    let mut v: Vec<([u8; 32], SealingKeyId)> = (0..n)
        .map(|i| {
            let secret = [0x20 + i as u8; 32];
            (
                secret,
                SealingSecretKey::from_bytes(&secret).public_key().key_id(),
            )
        })
        .collect();
    v.sort_by_key(|(_, id)| *id);
    v
}

/// Builds a payload: sealing keys (secret, kem seed byte, nb, na), retired ids,
/// one-time keys (secret, nb, na), consumed ids, in the order given.
fn payload(
    sealing: &[([u8; 32], u8, u64, u64)],
    retired: &[SealingKeyId],
    one_time: &[([u8; 32], u64, u64)],
    consumed: &[SealingKeyId],
) -> Payload {
    let mut p = Payload::new();
    p.list(sealing.len() as u32);
    for (secret, kem, nb, na) in sealing {
        p.sealing(secret, Some(&[*kem; 64]), *nb, *na);
    }
    p.list(retired.len() as u32);
    for id in retired {
        p.id(id);
    }
    p.list(one_time.len() as u32);
    for (secret, nb, na) in one_time {
        p.one_time(secret, *nb, *na);
    }
    p.list(consumed.len() as u32);
    for id in consumed {
        p.consumed(id, T0 + DAY);
    }
    p
}

fn invalid(field: &'static str) -> Result<(), StateError> {
    Err(StateError::Invalid { field })
}

#[test]
fn every_invariant_of_layout_3_is_checked() {
    let s = sorted_secrets(4);
    let (a, b, c, d) = (s[0], s[1], s[2], s[3]);
    let (nb, na) = (T0, T0 + DAY);
    let ok = |p: Payload| p.import().map(|_| ());

    // A payload with every list filled loads.
    let good = payload(
        &[(a.0, 1, nb, na)],
        &[SealingKeyId::from_bytes([0xee; 16])],
        &[(b.0, nb, na), (c.0, nb, na)],
        &[d.1],
    );
    let device = good.import().unwrap();
    assert!(device.kem_key(&a.1).is_some());
    assert!(device.one_time_key(&b.1).is_some());
    assert!(device.is_consumed_one_time_key(&d.1));

    // Sealing keys: order, window. (Two sealing keys may share a KEM key: nothing
    // is ambiguous, and `insert_sealing_key` allows it.)
    assert_eq!(
        ok(payload(
            &[(b.0, 1, nb, na), (a.0, 2, nb, na)],
            &[],
            &[],
            &[]
        )),
        invalid("sealing.order")
    );
    assert_eq!(
        ok(payload(&[(a.0, 1, nb, nb)], &[], &[], &[])),
        invalid("sealing.not_after")
    );
    assert_eq!(
        ok(payload(
            &[(a.0, 1, nb, na), (b.0, 1, nb, na)],
            &[],
            &[],
            &[]
        )),
        Ok(())
    );
    // Retired ids: not live.
    assert_eq!(
        ok(payload(&[(a.0, 1, nb, na)], &[a.1], &[], &[])),
        invalid("retired.live")
    );
    // One-time keys: order, window, disjoint from live and retired ids.
    assert_eq!(
        ok(payload(&[], &[], &[(c.0, nb, na), (b.0, nb, na)], &[])),
        invalid("one_time.order")
    );
    assert_eq!(
        ok(payload(&[], &[], &[(b.0, na, nb)], &[])),
        invalid("one_time.not_after")
    );
    assert_eq!(
        ok(payload(&[(a.0, 1, nb, na)], &[], &[(a.0, nb, na)], &[])),
        invalid("one_time.repeated")
    );
    assert_eq!(
        ok(payload(&[], &[b.1], &[(b.0, nb, na)], &[])),
        invalid("one_time.repeated")
    );
    // Consumed ids: order, disjoint from live, retired and one-time ids.
    assert_eq!(
        ok(payload(&[], &[], &[], &[d.1, c.1])),
        invalid("consumed.order")
    );
    for (sealing, retired, one_time) in [
        (vec![(c.0, 1, nb, na)], vec![], vec![]),
        (vec![], vec![c.1], vec![]),
        (vec![], vec![], vec![(c.0, nb, na)]),
    ] {
        assert_eq!(
            ok(payload(&sealing, &retired, &one_time, &[c.1])),
            invalid("consumed.known")
        );
    }
    // Lists the remaining bytes cannot hold, truncation, trailing bytes.
    let mut p = Payload::new();
    p.list(u32::MAX);
    assert_eq!(ok(p), invalid("sealing"));
    let mut p = payload(&[], &[], &[], &[]);
    p.0.pop();
    assert_eq!(ok(p), invalid("consumed"));
    let mut p = payload(&[], &[], &[], &[]);
    p.0.push(0);
    assert_eq!(ok(p), invalid("(trailing bytes)"));
    let mut p = payload(&[], &[], &[], &[]);
    let at = p.0.len() - 8;
    p.0[at..at + 4].copy_from_slice(&1u32.to_be_bytes()); // one-time: 1 item, 4 bytes left
    assert_eq!(ok(p), invalid("one_time"));
}

#[test]
fn a_device_rebuilt_from_release_0_1_secrets_works() {
    // The documented migration: identity seed and sealing secrets, fresh KEM keys.
    let mut rng = ChaCha20Rng::from_seed([64; 32]);
    let address = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::from_identity(address, IdentitySecretKey::from_seed(&[5; 32]));
    let bundle = keys.insert_sealing_key(
        SealingSecretKey::from_bytes(&[6; 32]),
        KemDecapsulationKey::generate(&mut rng),
        now(),
        now().saturating_add(DAY),
    );
    assert_eq!(bundle.encode()[0], 2, "a version-2 bundle to re-register");
    let blob = keys.export(&mut rng, &key()).unwrap();
    assert!(DeviceKeys::import(&key(), blob.as_bytes(), 1).is_ok());
}

/// Whatever the API builds exports and imports: a sealing key inserted with the
/// secret of a one-time key (unused or used) takes its id over.
#[test]
fn a_sealing_key_reusing_a_one_time_secret_keeps_the_state_importable() {
    let mut rng = ChaCha20Rng::from_seed([65; 32]);
    let address = DeviceAddress::new(UserId::new("fay").unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(&mut rng, address);
    for (secret, consume) in [([0x31; 32], false), ([0x32; 32], true)] {
        let upload = keys
            .insert_one_time_key(
                SealingSecretKey::from_bytes(&secret),
                now(),
                now().saturating_add(DAY),
            )
            .unwrap();
        let id = upload.content().key_id;
        if consume {
            assert!(keys.consume_one_time_key(id));
        }
        keys.insert_sealing_key(
            SealingSecretKey::from_bytes(&secret),
            KemDecapsulationKey::generate(&mut rng),
            now(),
            now().saturating_add(DAY),
        );
        assert!(keys.sealing_key(&id).is_some());
        assert!(keys.one_time_key(&id).is_none());
        assert!(!keys.is_consumed_one_time_key(&id));
    }
    let blob = keys.export(&mut rng, &key()).unwrap();
    let restored = DeviceKeys::import(&key(), blob.as_bytes(), 1).unwrap();
    assert_eq!(restored.live_key_ids().count(), 2);
}
