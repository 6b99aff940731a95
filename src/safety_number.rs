//! Safety numbers (SPEC.md §6): a fingerprint of two identities that both sides
//! compute identically, read aloud as 60 digits or scanned as a QR code.
//! An app built on [`Account`](crate::account::Account) gets the number between
//! two users from [`Account::safety_number`](crate::account::Account::safety_number)
//! (over the user keys, so it survives device changes); this module computes it
//! for any two identity keys.
//!
//! ```
//! use letterseal::ids::UserId;
//! use letterseal::keys::IdentitySecretKey;
//! use letterseal::safety_number::SafetyNumber;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//!
//! let alice = (UserId::new("alice").unwrap(), IdentitySecretKey::generate(&mut rng).public_key());
//! let bob = (UserId::new("bob").unwrap(), IdentitySecretKey::generate(&mut rng).public_key());
//! let at_alice = SafetyNumber::new((&alice.0, &alice.1), (&bob.0, &bob.1));
//! let at_bob = SafetyNumber::new((&bob.0, &bob.1), (&alice.0, &alice.1));
//! assert_eq!(at_alice.digits(), at_bob.digits());
//! assert!(at_bob.matches_scanned(&at_alice.to_bytes()));
//! assert_eq!(at_alice.digits().len(), 60);
//! ```

use alloc::string::String;
use core::fmt;

use subtle::ConstantTimeEq;

use crate::codec::Writer;
use crate::ids::UserId;
use crate::kdf::derive_labeled;
use crate::keys::IdentityPublicKey;
use crate::labels;

/// Version byte of the scannable encoding.
pub const SAFETY_NUMBER_VERSION: u8 = 1;
/// Length of the scannable encoding.
pub const SAFETY_NUMBER_LEN: usize = 1 + 2 * FINGERPRINT_LEN;
const FINGERPRINT_LEN: usize = 32;
/// Bytes of each fingerprint turned into digits: 6 groups of 5 bytes.
const DIGIT_SOURCE_LEN: usize = 30;

/// The safety number of two (user id, identity key) pairs.
///
/// Both users compare it out of band (read aloud, or one scans the other's
/// QR code). If it differs, one side holds an identity key the other did not
/// register — a server substituting keys, for example.
///
/// ```
/// use letterseal::ids::UserId;
/// use letterseal::keys::IdentitySecretKey;
/// use letterseal::safety_number::SafetyNumber;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
///
/// let alice = UserId::new("alice").unwrap();
/// let bob = UserId::new("bob").unwrap();
/// let alice_key = IdentitySecretKey::generate(&mut rng).public_key();
/// let bob_key = IdentitySecretKey::generate(&mut rng).public_key();
/// let mallory_key = IdentitySecretKey::generate(&mut rng).public_key();
///
/// // Alice holds Bob's real key; Bob's app was handed Mallory's key as "Alice's".
/// let at_alice = SafetyNumber::new((&alice, &alice_key), (&bob, &bob_key));
/// let at_bob = SafetyNumber::new((&bob, &bob_key), (&alice, &mallory_key));
/// assert_ne!(at_alice.digits(), at_bob.digits());
/// assert!(!at_bob.matches_scanned(&at_alice.to_bytes()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    low: [u8; FINGERPRINT_LEN],
    high: [u8; FINGERPRINT_LEN],
}

impl SafetyNumber {
    /// Computes the number; the order of the two parties does not matter.
    pub fn new(a: (&UserId, &IdentityPublicKey), b: (&UserId, &IdentityPublicKey)) -> Self {
        let fa = fingerprint(a.0, a.1);
        let fb = fingerprint(b.0, b.1);
        let (low, high) = if fa <= fb { (fa, fb) } else { (fb, fa) };
        Self { low, high }
    }

    /// 60 decimal digits: each fingerprint's first 30 bytes in six 5-byte groups,
    /// each group a big-endian integer mod 100000, zero-padded to 5 digits.
    pub fn digits(&self) -> String {
        let mut out = String::with_capacity(60);
        for fp in [&self.low, &self.high] {
            for group in fp[..DIGIT_SOURCE_LEN].chunks_exact(5) {
                let value = group.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                #[expect(
                    clippy::let_underscore_must_use,
                    reason = "Writing to a String cannot fail"
                )]
                let _ = fmt::write(&mut out, format_args!("{:05}", value % 100_000));
            }
        }
        out
    }

    /// The scannable encoding: `u8(1) ‖ low fingerprint ‖ high fingerprint`.
    pub fn to_bytes(&self) -> [u8; SAFETY_NUMBER_LEN] {
        let mut out = [0u8; SAFETY_NUMBER_LEN];
        let (version, rest) = out.split_at_mut(1);
        let (low, high) = rest.split_at_mut(FINGERPRINT_LEN);
        version.copy_from_slice(&[SAFETY_NUMBER_VERSION]);
        low.copy_from_slice(&self.low);
        high.copy_from_slice(&self.high);
        out
    }

    /// Compares a scanned encoding with this one in constant time.
    pub fn matches_scanned(&self, scanned: &[u8]) -> bool {
        bool::from(self.to_bytes().as_slice().ct_eq(scanned))
    }
}

impl fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafetyNumber({})", self.digits())
    }
}

/// One party's fingerprint:
/// `derive_labeled("", identity_key, "safety number", u8(len(user)) ‖ user, 32)`.
fn fingerprint(user: &UserId, identity: &IdentityPublicKey) -> [u8; FINGERPRINT_LEN] {
    let mut context = Writer::new();
    user.encode(&mut context);
    let mut out = [0u8; FINGERPRINT_LEN];
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 32-byte output and a context under 256 bytes: cannot fail"
    )]
    let _ = derive_labeled(
        b"",
        identity.as_bytes(),
        labels::kdf::SAFETY_NUMBER,
        context.as_bytes(),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IdentitySecretKey;

    fn party(name: &str, seed: u8) -> (UserId, IdentityPublicKey) {
        (
            UserId::new(name).unwrap(),
            IdentitySecretKey::from_seed(&[seed; 32]).public_key(),
        )
    }

    #[test]
    fn symmetric_and_sensitive_to_every_input() {
        let (a, ka) = party("alice", 1);
        let (b, kb) = party("bob", 2);
        let (m, km) = party("mallory", 3);
        let ab = SafetyNumber::new((&a, &ka), (&b, &kb));
        assert_eq!(ab, SafetyNumber::new((&b, &kb), (&a, &ka)));
        assert_ne!(ab, SafetyNumber::new((&a, &ka), (&b, &km)));
        assert_ne!(ab, SafetyNumber::new((&a, &ka), (&m, &kb)));
        assert!(ab.digits().chars().all(|c| c.is_ascii_digit()));
        let mut scanned = ab.to_bytes();
        assert!(ab.matches_scanned(&scanned));
        scanned[40] ^= 1;
        assert!(!ab.matches_scanned(&scanned));
        assert!(!ab.matches_scanned(&scanned[..64]));
    }
}
