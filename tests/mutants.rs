//! Tests added for mutants that `cargo mutants` (config in `.cargo/mutants.toml`) found
//! surviving the rest of the suite. Each test names the behaviour it pins.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::attachment::{
    AttachmentError, AttachmentSealer, FileDescriptor, FileKey, MAX_MEDIA_TYPE_LEN,
};
use letterseal::codec::DecodeError;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// `FileKey` equality compares the key bytes (not "always equal").
#[test]
fn file_keys_with_different_bytes_are_not_equal() {
    let a = FileKey::from_bytes([1; 32]);
    let b = FileKey::from_bytes([2; 32]);
    let mut c = [1; 32];
    c[31] = 0;
    assert_eq!(a, FileKey::from_bytes([1; 32]));
    assert_ne!(a, b);
    assert_ne!(a, FileKey::from_bytes(c));
}

/// A media type of exactly `MAX_MEDIA_TYPE_LEN` bytes is accepted and round-trips through
/// the descriptor; one byte more is refused when the sealer is built.
#[test]
fn media_type_length_boundary() {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let longest = "a".repeat(MAX_MEDIA_TYPE_LEN);
    let sealer = AttachmentSealer::new(&mut rng, 1024, &longest).unwrap();
    let (_, descriptor) = sealer.finish().unwrap();
    assert_eq!(descriptor.media_type.as_str(), longest);
    let decoded = FileDescriptor::decode(&descriptor.encode()).unwrap();
    assert_eq!(decoded.media_type.as_str(), longest);
    assert!(decoded == descriptor);

    let too_long = "a".repeat(MAX_MEDIA_TYPE_LEN + 1);
    assert!(matches!(
        AttachmentSealer::new(&mut rng, 1024, &too_long),
        Err(AttachmentError::Malformed(DecodeError::InvalidValue))
    ));
}

/// A distribution whose roster is made of minimal members (1-byte user ids, so exactly
/// 86 bytes each) and whose wraps end the input decodes: the count pre-checks in
/// `Roster::decode` and `Distribution::decode` must refuse only counts that cannot fit.
#[test]
fn distribution_with_minimal_members_decodes() {
    use std::collections::BTreeMap;

    use letterseal::device::DeviceKeys;
    use letterseal::group::{Distribution, GracePolicy, Group, GroupId};
    use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
    use letterseal::time::Timestamp;

    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let devices: Vec<(DeviceKeys, VerifiedBundle)> = ["a", "b", "c"]
        .iter()
        .map(|user| {
            let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
            let mut keys = DeviceKeys::generate(&mut rng, address);
            let bundle = keys
                .add_sealing_key(&mut rng, now, 30 * 86_400)
                .verify(
                    &keys.address().clone().into(),
                    &RegistrationPolicy::default(),
                    now,
                    None,
                    &NoDirectory,
                )
                .unwrap();
            (keys, bundle)
        })
        .collect();
    let bundles: Vec<VerifiedBundle> = devices.iter().map(|(_, b)| b.clone()).collect();
    let (keys, _) = &devices[0];
    let mut group = Group::new(
        GroupId::new("g").unwrap(),
        keys.address().clone(),
        GracePolicy::default(),
    );
    let mut sessions = BTreeMap::new();
    let distribution = group
        .propose(&mut rng, keys, &bundles, None, &mut sessions, now)
        .unwrap()
        .upload;
    assert_eq!(distribution.wraps().len(), 2);
    let wire = distribution.encode();
    let decoded = Distribution::decode(&wire).unwrap();
    assert_eq!(decoded, distribution);
    decoded.verify_for_server(None, keys.address()).unwrap();
    assert!(Distribution::decode(&wire[..wire.len() - 1]).is_err());
}
