//! Every type that holds a secret zeroizes on drop (checked at compile time)
//! and prints no secret in `Debug` (checked at run time). The legacy
//! crate's secret types have the same checks in `legacy/tests/secrets.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::aead::AeadKey;
use letterseal::attachment::FileKey;
use letterseal::group::EpochSecret;
use letterseal::kdf::Prk;
use letterseal::keys::{
    IdentitySecretKey, KemDecapsulationKey, KemSharedSecret, SealingSecretKey, SharedSecret,
};
use letterseal::message::keys::ChainKey;
use zeroize::ZeroizeOnDrop;

fn zeroize_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_are_zeroize_on_drop() {
    zeroize_on_drop::<IdentitySecretKey>();
    zeroize_on_drop::<SealingSecretKey>();
    zeroize_on_drop::<SharedSecret>();
    zeroize_on_drop::<KemDecapsulationKey>();
    zeroize_on_drop::<KemSharedSecret>();
    zeroize_on_drop::<Prk>();
    zeroize_on_drop::<AeadKey>();
    zeroize_on_drop::<ChainKey>();
    zeroize_on_drop::<letterseal::group::NodeSecret>();
    zeroize_on_drop::<EpochSecret>();
    zeroize_on_drop::<FileKey>();
}

/// `Debug` of a value built from `secret` must not contain the secret in hex
/// (or any 8-byte window of it) nor as a decimal byte list.
fn assert_hidden(debug: &str, secret: &[u8]) {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    for window in hex.as_bytes().windows(16) {
        let w = std::str::from_utf8(window).unwrap();
        assert!(!debug.contains(w), "secret bytes {w} visible in {debug}");
    }
    let decimal = format!("{:?}", &secret[..4]);
    assert!(
        !debug.contains(&decimal[1..decimal.len() - 1]),
        "secret visible in {debug}"
    );
}

#[test]
fn debug_prints_no_secret() {
    let secret: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let s32: [u8; 32] = secret.clone().try_into().unwrap();
    assert_hidden(
        &format!("{:?}", IdentitySecretKey::from_seed(&s32)),
        &secret,
    );
    let sealing = SealingSecretKey::from_bytes(&s32);
    assert_hidden(&format!("{sealing:?}"), &secret);
    let peer = SealingSecretKey::from_bytes(&[9; 32]).public_key();
    let shared = sealing.agree(&peer).unwrap();
    assert_hidden(&format!("{shared:?}"), shared.as_bytes());
    let prk = Prk::extract(b"", &secret);
    assert_hidden(&format!("{prk:?}"), &secret);
    let seed: [u8; 64] = [secret.clone(), secret.clone()]
        .concat()
        .try_into()
        .unwrap();
    let kem = KemDecapsulationKey::from_seed(&seed);
    assert_hidden(&format!("{kem:?}"), &secret);
    #[cfg(feature = "hazmat")]
    assert_hidden(&format!("{kem:?}"), &kem.expanded_bytes()[..32]);
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed([3; 32]);
    let (_, kem_shared) = kem.encapsulation_key().encapsulate(&mut rng);
    assert_hidden(&format!("{kem_shared:?}"), kem_shared.as_bytes());
    assert_hidden(&format!("{:?}", AeadKey::from_bytes(s32)), &secret);
    assert_hidden(
        &format!("{:?}", AeadKey::from_bytes(s32).prepare()),
        &secret,
    );
    assert_hidden(&format!("{:?}", ChainKey::from_bytes(s32)), &secret);
    assert_hidden(&format!("{:?}", EpochSecret::from_bytes(s32)), &secret);
    assert_hidden(&format!("{:?}", FileKey::from_bytes(s32)), &secret);
}
