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
//! ```

use core::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::labels::PROTOCOL_ID;

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

    /// HKDF-Expand(prk, info, out.len()) with a raw `info`.
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
    if out.len() > MAX_OUTPUT_LEN {
        return Err(KdfError::OutputTooLong);
    }
    let out_len = u16::try_from(out.len()).map_err(|_| KdfError::OutputTooLong)?;
    let label_len = u8::try_from(label.len()).map_err(|_| KdfError::LabelTooLong)?;
    let context_len = u32::try_from(context.len()).map_err(|_| KdfError::LabelTooLong)?;
    expand_with(
        hk,
        &[
            PROTOCOL_ID,
            &out_len.to_be_bytes(),
            &[label_len],
            label,
            &context_len.to_be_bytes(),
            context,
        ],
        out,
    )
}

fn expand_with(hk: &Hkdf<Sha256>, info: &[&[u8]], out: &mut [u8]) -> Result<(), KdfError> {
    if out.len() > MAX_OUTPUT_LEN {
        return Err(KdfError::OutputTooLong);
    }
    hk.expand_multi_info(info, out)
        .map_err(|_| KdfError::OutputTooLong)
}

/// RFC 5869 HKDF-SHA-256: Expand(Extract(salt, ikm), info, out.len()).
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
    // One extract whose HMAC state serves the expand directly (no second key setup).
    let (_, hk) = Hkdf::<Sha256>::extract(Some(salt), ikm);
    expand_labeled_with(&hk, label, context, out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
