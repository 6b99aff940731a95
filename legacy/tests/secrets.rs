//! Every legacy type that holds a secret zeroizes on drop (checked at compile
//! time) and prints no secret in `Debug` (checked at run time).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal_legacy::group::GroupKey;
use letterseal_legacy::ids::LegacyKeyId;
use letterseal_legacy::keys::{
    LegacyKeyPair, LegacySharedSecret, RawScalarKeyPair, X25519SecretKey,
};
use letterseal_legacy::media::MediaKeyMaterial;
use zeroize::ZeroizeOnDrop;

fn zeroize_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_are_zeroize_on_drop() {
    zeroize_on_drop::<X25519SecretKey>();
    zeroize_on_drop::<LegacySharedSecret>();
    zeroize_on_drop::<LegacyKeyPair>();
    zeroize_on_drop::<RawScalarKeyPair>();
    zeroize_on_drop::<GroupKey>();
    zeroize_on_drop::<MediaKeyMaterial>();
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
    let x = X25519SecretKey::from_bytes(&s32);
    assert_hidden(&format!("{x:?}"), &secret);
    let shared = x
        .agree(&X25519SecretKey::from_bytes(&[9; 32]).public_key())
        .unwrap();
    assert_hidden(&format!("{shared:?}"), shared.as_bytes());
    let pair = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &s32);
    assert_hidden(&format!("{pair:?}"), &secret);
    let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &s32);
    assert_hidden(&format!("{raw:?}"), &secret);
    let group = GroupKey::from_bytes(&s32);
    assert_hidden(&format!("{group:?}"), &secret);
    let km = MediaKeyMaterial::from_bytes(s32);
    assert_hidden(&format!("{km:?}"), &secret);
    assert_hidden(
        &format!("{:?}", km.derive_keys()),
        km.derive_keys().enc_key(),
    );
}
