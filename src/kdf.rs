//! HKDF-SHA-256 and the labelled derivation every LS3 key goes through (SPEC.md §3).
//!
//! [`hkdf_sha256`] is plain RFC 5869 HKDF (checked against RFC 5869 and
//! Wycheproof). [`Prk::expand_labeled`] builds the LS3 `info`:
//!
//! ```text
//! info = PROTOCOL_ID ‖ u16(L) ‖ u8(len(label)) ‖ label ‖ u32(len(context)) ‖ context
//! ```
//!
//! ```
//! # #[cfg(feature = "hazmat")] { // public with `hazmat` only
//! use letterseal::kdf::{derive_labeled, Prk};
//! use letterseal::labels;
//!
//! let mut out = [0u8; 16];
//! derive_labeled(b"", b"input key material", labels::kdf::SEALING_KEY_ID, b"", &mut out).unwrap();
//!
//! // The same in two steps: extract once, expand many times.
//! let prk = Prk::extract(b"", b"input key material");
//! let mut again = [0u8; 16];
//! prk.expand_labeled(labels::kdf::SEALING_KEY_ID, b"", &mut again).unwrap();
//! assert_eq!(out, again);
//! # }
//! ```

use core::fmt;

use hkdf::Hkdf;
use polyval::Polyval;
use polyval::universal_hash::UniversalHash;
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::labels::{self, PROTOCOL_ID};

/// Largest HKDF-SHA-256 output: 255 blocks of 32 bytes.
pub const MAX_OUTPUT_LEN: usize = 255 * 32;

/// Why a derivation was refused. When a labelled derivation breaks both limits, the error is
/// `OutputTooLong` (the output length is checked first, SPEC.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KdfError {
    /// More than [`MAX_OUTPUT_LEN`] bytes were requested.
    OutputTooLong,
    /// A label longer than 255 bytes or a context longer than `u32::MAX` bytes.
    LabelTooLong,
}

impl fmt::Display for KdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutputTooLong => f.write_str("HKDF output longer than 255 * 32 bytes"),
            Self::LabelTooLong => f.write_str("KDF label or context too long"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for KdfError {}

/// A pseudorandom key: the output of HKDF-Extract. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Prk([u8; 32]);

impl fmt::Debug for Prk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Prk(<secret>)")
    }
}

impl Prk {
    /// HKDF-Extract(salt, ikm). An empty salt means 32 zero bytes (RFC 5869 §2.2).
    pub fn extract(salt: &[u8], ikm: &[u8]) -> Self {
        let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&prk);
        Self(bytes)
    }

    /// A PRK that is already a uniformly random 32-byte key (a ratchet chain
    /// key or message secret), for `ExpandLabeled` (SPEC.md §3.1).
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// HKDF-Expand(prk, info, out.len()) with a raw `info`.
    #[cfg(any(feature = "hazmat", test))]
    pub fn expand(&self, info: &[u8], out: &mut [u8]) -> Result<(), KdfError> {
        expand_with(&self.hkdf()?, &[info], out)
    }

    /// HKDF-Expand with the LS3 labelled `info` (SPEC.md §3.1).
    pub fn expand_labeled(
        &self,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), KdfError> {
        expand_labeled_with(&self.hkdf()?, label, context, out)
    }

    /// The HKDF state holding this PRK (a 32-byte PRK is always accepted).
    fn hkdf(&self) -> Result<Hkdf<Sha256>, KdfError> {
        Hkdf::<Sha256>::from_prk(&self.0).map_err(|_| KdfError::OutputTooLong)
    }
}

/// Expand with the labelled `info`, from an HKDF state that already holds the PRK.
///
/// The checks run in SPEC.md §3.1's order: the output length first, then the label (and context)
/// length, so a request over both limits is `OutputTooLong`.
fn expand_labeled_with(
    hk: &Hkdf<Sha256>,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), KdfError> {
    expand_labeled_parts(hk, label, &[context], out)
}

/// The one place the labelled `info` of SPEC.md §3.1 is built; the context
/// is given as consecutive parts so callers need not concatenate them. The
/// output length is checked before the label (SPEC.md §3.1).
fn expand_labeled_parts(
    hk: &Hkdf<Sha256>,
    label: &[u8],
    context: &[&[u8]],
    out: &mut [u8],
) -> Result<(), KdfError> {
    if out.len() > MAX_OUTPUT_LEN {
        return Err(KdfError::OutputTooLong);
    }
    let out_len = u16::try_from(out.len()).map_err(|_| KdfError::OutputTooLong)?;
    let label_len = u8::try_from(label.len()).map_err(|_| KdfError::LabelTooLong)?;
    let context_len = context
        .iter()
        .try_fold(0usize, |sum, part| sum.checked_add(part.len()))
        .and_then(|len| u32::try_from(len).ok())
        .ok_or(KdfError::LabelTooLong)?;
    let (out_len, context_len) = (out_len.to_be_bytes(), context_len.to_be_bytes());
    let mut info: [&[u8]; 8] = [
        PROTOCOL_ID,
        &out_len,
        core::slice::from_ref(&label_len),
        label,
        &context_len,
        &[],
        &[],
        &[],
    ];
    let slots = info.get_mut(5..).ok_or(KdfError::LabelTooLong)?;
    if context.len() > slots.len() {
        return Err(KdfError::LabelTooLong);
    }
    for (slot, part) in slots.iter_mut().zip(context) {
        *slot = part;
    }
    expand_with(hk, &info, out)
}

fn expand_with(hk: &Hkdf<Sha256>, info: &[&[u8]], out: &mut [u8]) -> Result<(), KdfError> {
    if out.len() > MAX_OUTPUT_LEN {
        return Err(KdfError::OutputTooLong);
    }
    hk.expand_multi_info(info, out)
        .map_err(|_| KdfError::OutputTooLong)
}

/// RFC 5869 HKDF-SHA-256: Expand(Extract(salt, ikm), info, out.len()).
#[cfg(any(feature = "hazmat", test))]
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), KdfError> {
    let (_, hk) = Hkdf::<Sha256>::extract(Some(salt), ikm);
    expand_with(&hk, &[info], out)
}

/// The LS3 labelled derivation (SPEC.md §3.1):
/// Expand(Extract(salt, ikm), labelled info, out.len()).
pub fn derive_labeled(
    salt: &[u8],
    ikm: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), KdfError> {
    derive_labeled_from_parts(salt, [ikm], label, context, out)
}

/// [`derive_labeled`] with the input keying material given in pieces, whose
/// concatenation is the `ikm` (no copy of a large input is made).
///
/// ```
/// # #[cfg(feature = "hazmat")] { // public with `hazmat` only
/// use letterseal::kdf::{derive_labeled, derive_labeled_from_parts};
/// let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
/// derive_labeled(b"", b"wrap 1wrap 2", b"label", b"", &mut a).unwrap();
/// derive_labeled_from_parts(b"", [&b"wrap 1"[..], b"wrap 2"], b"label", b"", &mut b).unwrap();
/// assert_eq!(a, b);
/// # }
/// ```
pub fn derive_labeled_from_parts<'a>(
    salt: &[u8],
    ikm: impl IntoIterator<Item = &'a [u8]>,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), KdfError> {
    // One extract whose HMAC state serves the expand directly (no second key setup).
    let mut extract = hkdf::HkdfExtract::<Sha256>::new(Some(salt));
    for part in ikm {
        extract.input_ikm(part);
    }
    let (_, hk) = extract.finalize();
    expand_labeled_with(&hk, label, context, out)
}

/// Length of a hedged salt (SPEC.md §3.5).
pub const HEDGED_SALT_LEN: usize = 16;
/// Length of the fresh randomness a hedged salt draws (SPEC.md §3.5).
pub const HEDGE_RANDOM_LEN: usize = 32;

/// The hedging keys of one sending secret (SPEC.md §3.5): a PRF key and a
/// POLYVAL hash key, `DeriveLabeled("", secret, "hedge", "", 48)`. Zeroized
/// on drop.
///
/// A hedged salt depends on fresh randomness **and** on the message: even if
/// the caller's RNG repeats its output (a VM snapshot restored, a forked
/// process, a broken generator) together with the sender's state, two
/// different messages get different salts, so they are never sealed under
/// the same key and nonce. The same message sealed twice under a repeated RNG
/// gets the same salt, which reveals only that the two are equal.
///
/// ```
/// # #[cfg(feature = "hazmat")] { // public with `hazmat` only
/// use letterseal::kdf::HedgeKey;
/// let hedge = HedgeKey::derive(&[7u8; 32]);
/// let random = [1u8; 32]; // as if the RNG repeated this output
/// let a = hedge.salt_with(&random, b"header", b"", b"attack at dawn");
/// let b = hedge.salt_with(&random, b"header", b"", b"attack at dusk");
/// assert_ne!(a, b);
/// assert_eq!(a, hedge.salt_with(&random, b"header", b"", b"attack at dawn"));
/// # }
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HedgeKey {
    prf: Prk,
    hash_key: [u8; 16],
}

impl fmt::Debug for HedgeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HedgeKey(<secret>)")
    }
}

impl HedgeKey {
    /// The hedging keys of `secret` (a chain key, sender chain, file key or
    /// storage key: whatever the message keys are derived from).
    pub fn derive(secret: &[u8]) -> Self {
        let mut okm = Zeroizing::new([0u8; 48]);
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 48-byte output: cannot fail"
        )]
        let _ = derive_labeled(b"", secret, labels::kdf::HEDGE, b"", okm.as_mut());
        let (prf, hash_key) = okm.split_at(32);
        let mut key = Self {
            prf: Prk([0; 32]),
            hash_key: [0; 16],
        };
        key.prf.0.copy_from_slice(prf);
        key.hash_key.copy_from_slice(hash_key);
        key
    }

    /// The hedging keys of a ratchet message secret `MK` (SPEC.md §7.4):
    /// `prf = MK`, `H = ExpandLabeled(MK, "hedge", "", 16)`.
    pub(crate) fn from_message_secret(secret: &[u8; 32]) -> Self {
        let mut key = Self {
            prf: Prk(*secret),
            hash_key: [0; 16],
        };
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 16-byte output: cannot fail"
        )]
        let _ = key
            .prf
            .expand_labeled(labels::kdf::HEDGE, b"", &mut key.hash_key);
        key
    }

    /// A hedged salt for one message: 32 fresh bytes from `rng`, then
    /// [`Self::salt_with`].
    pub fn salt<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        context: &[u8],
        associated_data: &[u8],
        plaintext: &[u8],
    ) -> [u8; HEDGED_SALT_LEN] {
        let mut random = Zeroizing::new([0u8; HEDGE_RANDOM_LEN]);
        rng.fill_bytes(random.as_mut());
        self.salt_with(&random, context, associated_data, plaintext)
    }

    /// `ExpandLabeled(prf, "hedged salt", random ‖ context ‖ digest, 16)` with
    /// `digest = POLYVAL(H, pad16(ad) ‖ pad16(plaintext) ‖ u64le(8·len(ad)) ‖
    /// u64le(8·len(plaintext)))` (SPEC.md §3.5). Deterministic; used with
    /// fixed randomness by the test vectors.
    pub fn salt_with(
        &self,
        random: &[u8; HEDGE_RANDOM_LEN],
        context: &[u8],
        associated_data: &[u8],
        plaintext: &[u8],
    ) -> [u8; HEDGED_SALT_LEN] {
        let digest = self.digest(associated_data, plaintext);
        let mut salt = [0u8; HEDGED_SALT_LEN];
        // A 32-byte PRK always forms an HKDF state.
        if let Ok(hk) = self.prf.hkdf() {
            #[expect(
                clippy::let_underscore_must_use,
                reason = "the label is constant, the output 16 bytes and the context three bounded parts: cannot fail"
            )]
            let _ = expand_labeled_parts(
                &hk,
                labels::kdf::HEDGED_SALT,
                &[random, context, &digest],
                &mut salt,
            );
        }
        salt
    }

    fn digest(&self, associated_data: &[u8], plaintext: &[u8]) -> [u8; 16] {
        let mut polyval = Polyval::new(&self.hash_key.into());
        polyval.update_padded(associated_data);
        polyval.update_padded(plaintext);
        let mut lengths = [0u8; 16];
        let bits = |n: usize| (n as u64).wrapping_mul(8).to_le_bytes();
        let (ad_bits, pt_bits) = lengths.split_at_mut(8);
        ad_bits.copy_from_slice(&bits(associated_data.len()));
        pt_bits.copy_from_slice(&bits(plaintext.len()));
        polyval.update(&[lengths.into()]);
        polyval.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyval_matches_rfc_8452_appendix_a() {
        // POLYVAL(H, X_1, X_2) from RFC 8452 Appendix A: the byte order the hedge uses.
        let h: [u8; 16] = hex::decode("25629347589242761d31f826ba4b757b")
            .unwrap()
            .try_into()
            .unwrap();
        let x = hex::decode("4f4f95668c83dfb6401762bb2d01a262d1a24ddd2721d006bbe45f20d3c9f362")
            .unwrap();
        let mut polyval = Polyval::new(&h.into());
        polyval.update_padded(&x);
        let out: [u8; 16] = polyval.finalize().into();
        assert_eq!(hex::encode(out), "f7a3b47b846119fae5b7866cf5e5b77e");
    }

    #[test]
    fn hedged_salts_differ_for_different_messages_under_a_repeated_rng() {
        let hedge = HedgeKey::derive(b"sending secret");
        let random = [9u8; HEDGE_RANDOM_LEN];
        let base = hedge.salt_with(&random, b"ctx", b"ad", b"plaintext");
        // Any difference in context, associated data, plaintext or randomness changes the salt.
        assert_ne!(base, hedge.salt_with(&random, b"ctX", b"ad", b"plaintext"));
        assert_ne!(base, hedge.salt_with(&random, b"ctx", b"aD", b"plaintext"));
        assert_ne!(base, hedge.salt_with(&random, b"ctx", b"ad", b"plaintexT"));
        assert_ne!(
            base,
            hedge.salt_with(&[8u8; 32], b"ctx", b"ad", b"plaintext")
        );
        // Moving bytes between associated data and plaintext changes it too (lengths are bound).
        assert_ne!(base, hedge.salt_with(&random, b"ctx", b"adp", b"laintext"));
        assert_ne!(base, hedge.salt_with(&random, b"ctx", b"", b"adplaintext"));
        // Another sending secret, another salt.
        assert_ne!(
            base,
            HedgeKey::derive(b"other secret").salt_with(&random, b"ctx", b"ad", b"plaintext")
        );
        // Deterministic: the same inputs, the same salt (equality is all it reveals).
        assert_eq!(base, hedge.salt_with(&random, b"ctx", b"ad", b"plaintext"));
    }

    #[test]
    fn hedged_salt_matches_its_definition() {
        // SPEC.md §3.5 recomputed with the raw primitives.
        let secret = b"k";
        let mut keys = [0u8; 48];
        derive_labeled(b"", secret, b"hedge", b"", &mut keys).unwrap();
        let (prf, h) = keys.split_at(32);
        let mut polyval = Polyval::new(&<[u8; 16]>::try_from(h).unwrap().into());
        polyval.update_padded(b"ad");
        polyval.update_padded(b"pt!");
        let mut lengths = [0u8; 16];
        lengths[0] = 16; // 2 bytes = 16 bits
        lengths[8] = 24; // 3 bytes = 24 bits
        polyval.update(&[lengths.into()]);
        let digest: [u8; 16] = polyval.finalize().into();
        let mut context = alloc::vec![5u8; 32];
        context.extend_from_slice(b"ctx");
        context.extend_from_slice(&digest);
        let mut expected = [0u8; 16];
        let prk = Prk(<[u8; 32]>::try_from(prf).unwrap());
        prk.expand_labeled(b"hedged salt", &context, &mut expected)
            .unwrap();
        let hedge = HedgeKey::derive(secret);
        assert_eq!(hedge.salt_with(&[5u8; 32], b"ctx", b"ad", b"pt!"), expected);
    }

    #[test]
    fn labelled_info_layout_matches_spec() {
        // Recompute with the raw path and a hand-built info.
        let mut info = alloc::vec::Vec::new();
        info.extend_from_slice(b"letterseal/LS3/v1");
        info.extend_from_slice(&[0, 20]);
        info.push(3);
        info.extend_from_slice(b"abc");
        info.extend_from_slice(&[0, 0, 0, 2]);
        info.extend_from_slice(b"xy");
        let mut a = [0u8; 20];
        let mut b = [0u8; 20];
        hkdf_sha256(b"salt", b"ikm", &info, &mut a).unwrap();
        derive_labeled(b"salt", b"ikm", b"abc", b"xy", &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn label_and_context_are_not_ambiguous() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        derive_labeled(b"", b"k", b"ab", b"c", &mut a).unwrap();
        derive_labeled(b"", b"k", b"a", b"bc", &mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn output_length_is_bound_into_info() {
        let mut short = [0u8; 16];
        let mut long = [0u8; 32];
        derive_labeled(b"", b"k", b"l", b"", &mut short).unwrap();
        derive_labeled(b"", b"k", b"l", b"", &mut long).unwrap();
        assert_ne!(short[..], long[..16]);
    }

    #[test]
    fn two_step_raw_expand_matches_one_shot_hkdf() {
        let mut one_shot = [0u8; 42];
        let mut two_step = [0u8; 42];
        hkdf_sha256(b"salt", b"ikm", b"info", &mut one_shot).unwrap();
        Prk::extract(b"salt", b"ikm")
            .expand(b"info", &mut two_step)
            .unwrap();
        assert_eq!(one_shot, two_step);
        assert_ne!(two_step, [0u8; 42]);
        let mut too_long = alloc::vec![0u8; MAX_OUTPUT_LEN + 1];
        assert_eq!(
            Prk::extract(b"", b"k").expand(b"", &mut too_long),
            Err(KdfError::OutputTooLong)
        );
    }

    #[test]
    fn over_long_output_is_an_error() {
        let mut out = alloc::vec![0u8; MAX_OUTPUT_LEN + 1];
        assert_eq!(
            hkdf_sha256(b"", b"k", b"", &mut out),
            Err(KdfError::OutputTooLong)
        );
        assert_eq!(
            derive_labeled(b"", b"k", b"l", b"", &mut out),
            Err(KdfError::OutputTooLong)
        );
        let mut max = alloc::vec![0u8; MAX_OUTPUT_LEN];
        assert!(hkdf_sha256(b"", b"k", b"", &mut max).is_ok());
    }

    #[test]
    fn output_length_is_checked_before_label_length() {
        let label = [b'x'; 256];
        // Just over the HKDF limit, and beyond what u16(L) can encode.
        for len in [MAX_OUTPUT_LEN + 1, usize::from(u16::MAX) + 1] {
            let mut out = alloc::vec![0u8; len];
            assert_eq!(
                derive_labeled(b"", b"k", &label, b"", &mut out),
                Err(KdfError::OutputTooLong),
                "L = {len}"
            );
            assert_eq!(
                Prk::extract(b"", b"k").expand_labeled(&label, b"", &mut out),
                Err(KdfError::OutputTooLong),
                "L = {len}"
            );
            assert!(out.iter().all(|&b| b == 0), "nothing written");
        }
    }

    #[test]
    fn over_long_label_is_an_error() {
        let mut out = [0u8; 32];
        assert_eq!(
            derive_labeled(b"", b"k", &[b'x'; 256], b"", &mut out),
            Err(KdfError::LabelTooLong)
        );
    }
}
