#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use alloc::vec::Vec;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::keys::IdentitySecretKey;

fn kinds() -> impl Strategy<Value = EnvelopeKind> {
    (1u8..=6).prop_map(|c| EnvelopeKind::from_code(c).unwrap())
}

proptest! {
    #[test]
    fn an_envelope_decodes_to_what_was_encoded(kind in kinds(), body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let wire = Envelope::encode(kind, &body).unwrap();
        let envelope = Envelope::decode(&wire).unwrap();
        prop_assert_eq!(envelope.kind(), kind);
        prop_assert_eq!(envelope.body(), &body[..]);
        // One encoding per value: any strict prefix or extension is refused.
        prop_assert!(Envelope::decode(&wire[..wire.len() - 1]).is_err());
        let mut longer = wire.clone();
        longer.push(0);
        prop_assert_eq!(Envelope::decode(&longer), Err(EnvelopeError::Malformed(crate::codec::DecodeError::TrailingBytes)));
    }

    #[test]
    fn whatever_decodes_re_encodes_to_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(envelope) = Envelope::decode(&bytes) {
            prop_assert_eq!(Envelope::encode(envelope.kind(), envelope.body()).unwrap(), bytes.clone());
        }
        if let Ok(list) = DeviceList::decode(&bytes) {
            prop_assert_eq!(list.encode(), bytes.clone());
        }
        if let Ok((header, rest)) = PairwiseHeader::split(&bytes) {
            let mut w = Writer::new();
            header.encode(&mut w);
            w.raw(rest);
            prop_assert_eq!(w.as_bytes(), &bytes[..]);
        }
    }

    #[test]
    fn a_device_list_round_trips_and_any_bit_flip_is_refused(
        ids in proptest::collection::btree_set(any::<u32>(), 1..6),
        version in 1u64..,
        flip in any::<usize>(),
    ) {
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let key = UserSecretKey::generate(&mut rng);
        let devices: Vec<ListedDevice> = ids
            .iter()
            .map(|id| ListedDevice {
                device: DeviceId::new(*id),
                identity_key: IdentitySecretKey::generate(&mut rng).public_key(),
            })
            .collect();
        let user = UserId::new("u").unwrap();
        let list = DeviceList::sign(&key, user.clone(), version, devices).unwrap();
        let decoded = DeviceList::decode(list.as_bytes()).unwrap();
        prop_assert_eq!(&decoded, &list);
        prop_assert!(decoded.verify(&user, None).is_ok());
        let mut bytes = list.encode();
        let bit = flip % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let refused = DeviceList::decode(&bytes).and_then(|l| l.verify(&user, None));
        prop_assert!(refused.is_err());
    }
}

#[test]
fn envelope_kind_codes_are_those_of_the_spec() {
    for (code, kind) in [
        (1, EnvelopeKind::PairwiseMessage),
        (2, EnvelopeKind::GroupMessage),
        (3, EnvelopeKind::Distribution),
        (4, EnvelopeKind::KeyBundle),
        (5, EnvelopeKind::OneTimeKey),
        (6, EnvelopeKind::DeviceList),
    ] {
        assert_eq!(kind.code(), code);
        assert_eq!(EnvelopeKind::from_code(code), Some(kind));
    }
    assert_eq!(EnvelopeKind::from_code(0), None);
    assert_eq!(EnvelopeKind::from_code(7), None);
}

#[test]
fn the_pairwise_header_is_bound_into_the_associated_data() {
    let a = DeviceAddress::new(UserId::new("a").unwrap(), DeviceId::new(1));
    let b = DeviceAddress::new(UserId::new("b").unwrap(), DeviceId::new(2));
    let header = PairwiseHeader {
        sender: a.clone(),
        recipient: b.clone(),
        to_user: b.user.clone(),
    };
    let mut w = Writer::new();
    header.encode(&mut w);
    w.raw(b"sealed");
    let (decoded, rest) = PairwiseHeader::split(w.as_bytes()).unwrap();
    assert_eq!(decoded, header);
    assert_eq!(rest, b"sealed");
    let ad = header.associated_data();
    assert_eq!(
        &ad[..2],
        &[ENVELOPE_VERSION, EnvelopeKind::PairwiseMessage.code()]
    );
    let swapped = PairwiseHeader {
        sender: b,
        recipient: a,
        ..header
    };
    assert_ne!(swapped.associated_data(), ad);
}

#[test]
fn a_stale_list_names_both_versions_and_a_duplicate_is_told_apart() {
    let mut rng = ChaCha20Rng::from_seed([6; 32]);
    let key = UserSecretKey::generate(&mut rng);
    let user = UserId::new("u").unwrap();
    let device = ListedDevice {
        device: DeviceId::new(1),
        identity_key: IdentitySecretKey::generate(&mut rng).public_key(),
    };
    let v2 = DeviceList::sign(&key, user.clone(), 2, Vec::from([device])).unwrap();
    let held = v2.clone().verify(&user, None).unwrap();
    let v1 = DeviceList::sign(&key, user.clone(), 1, Vec::from([device])).unwrap();
    assert_eq!(
        v1.verify(&user, Some(&held)),
        Err(DeviceListError::Stale {
            held: 2,
            received: 1
        })
    );
    assert_eq!(
        v2.clone().verify(&user, Some(&held)),
        Err(DeviceListError::Duplicate)
    );
    let other = UserId::new("v").unwrap();
    assert_eq!(v2.verify(&other, None), Err(DeviceListError::WrongUser));
}
