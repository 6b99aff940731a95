//! The five byte strings ("chunks") a legacy message travels as (SPEC.md §11.1).
//!
//! | # | v1 (§11.2) | v2 and groups (§11.3, §11.4) |
//! |---|---|---|
//! | 0 | salt (8) | salt (16) |
//! | 1 | `C` (non-empty, multiple of 16) | `C ‖ tag` (at least 16) |
//! | 2 | MAC (16) | nonce (12 or 16) |
//! | 3 | `i32be(senderKeyId)` (4) | `i32be(senderKeyId)` (4) |
//! | 4 | `i32be(recipientKeyId)` (4) | `i32be(recipientKeyId)` (4) |
//!
//! [`Chunks`] checks the count; the version's message type
//! ([`V1Message`](super::v1::V1Message), [`V2Message`](super::v2::V2Message))
//! checks every length. Both failures are [`LegacyError::Malformed`].
//!
//! ```
//! use letterseal_legacy::LegacyError;
//! use letterseal_legacy::chunks::Chunks;
//!
//! let chunks = Chunks::from_vec(vec![vec![0; 8], vec![0; 16], vec![0; 16], vec![0; 4], vec![0; 4]])?;
//! assert_eq!(chunks.as_slices()[0].len(), 8);
//! assert_eq!(Chunks::from_vec(vec![vec![0; 8]]), Err(LegacyError::Malformed));
//! # Ok::<(), LegacyError>(())
//! ```

use alloc::vec::Vec;

use super::LegacyError;

/// Number of chunks of a legacy message.
pub const CHUNK_COUNT: usize = 5;

/// The five chunks of a legacy message, as the transport carries them. The
/// count is checked here; lengths by the version's message type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunks([Vec<u8>; CHUNK_COUNT]);

impl Chunks {
    /// Wraps five chunks.
    pub fn new(chunks: [Vec<u8>; CHUNK_COUNT]) -> Self {
        Self(chunks)
    }

    /// Wraps a list that must hold exactly five chunks
    /// (otherwise [`LegacyError::Malformed`]).
    pub fn from_vec(chunks: Vec<Vec<u8>>) -> Result<Self, LegacyError> {
        chunks
            .try_into()
            .map(Self)
            .map_err(|_| LegacyError::Malformed)
    }

    /// Copies a list of byte strings that must hold exactly five chunks.
    pub fn from_slices(chunks: &[&[u8]]) -> Result<Self, LegacyError> {
        Self::from_vec(chunks.iter().map(|c| c.to_vec()).collect())
    }

    /// The five chunks, borrowed.
    pub fn as_slices(&self) -> [&[u8]; CHUNK_COUNT] {
        let [a, b, c, d, e] = &self.0;
        [a, b, c, d, e]
    }

    /// The five chunks.
    pub fn into_array(self) -> [Vec<u8>; CHUNK_COUNT] {
        self.0
    }

    /// The five chunks as a list.
    pub fn into_vec(self) -> Vec<Vec<u8>> {
        self.0.into()
    }
}

impl TryFrom<Vec<Vec<u8>>> for Chunks {
    type Error = LegacyError;
    fn try_from(chunks: Vec<Vec<u8>>) -> Result<Self, LegacyError> {
        Self::from_vec(chunks)
    }
}

impl From<Chunks> for Vec<Vec<u8>> {
    fn from(chunks: Chunks) -> Self {
        chunks.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn count_is_checked() {
        for n in [0usize, 1, 4, 6, 10] {
            assert_eq!(
                Chunks::from_vec(vec![vec![1u8]; n]),
                Err(LegacyError::Malformed)
            );
        }
        let chunks = Chunks::from_slices(&[b"a", b"b", b"c", b"d", b"e"]).unwrap();
        assert_eq!(chunks.as_slices()[4], b"e");
        let list = chunks.clone().into_vec();
        assert_eq!(Chunks::try_from(list.clone()).unwrap(), chunks);
        assert_eq!(Vec::from(chunks.clone()), list);
        assert_eq!(Chunks::new(chunks.clone().into_array()), chunks);
    }
}
