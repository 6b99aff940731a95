//! The user key: the Ed25519 key above a user's devices (SPEC.md §13.2).

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{IdentityPublicKey, IdentitySecretKey, KeyError, Signature};
use crate::labels;

/// A user's secret key: it signs the user's [`DeviceList`](super::DeviceList).
/// Held by the user's primary device; zeroized on drop, never printed.
///
/// An [`Account`](super::Account) makes and keeps its own (see
/// [`Account::user_key_recovery_secret`](super::Account::user_key_recovery_secret));
/// this type is for servers, tests and tools that sign lists themselves.
///
/// ```
/// use letterseal::account::{UserPublicKey, UserSecretKey};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
/// let user_key = UserSecretKey::generate(&mut rng);
/// // The recovery secret, written down offline, gives back the same key.
/// let secret = user_key.to_recovery_secret();
/// let recovered = UserSecretKey::from_recovery_secret(&secret);
/// assert_eq!(recovered.public_key(), user_key.public_key());
/// // The public half travels in every device list.
/// let public: UserPublicKey = user_key.public_key();
/// assert_eq!(UserPublicKey::from_bytes(public.as_bytes())?, public);
/// assert_eq!(public.as_identity_key().as_bytes(), public.as_bytes());
/// # Ok::<(), letterseal::keys::KeyError>(())
/// ```
pub struct UserSecretKey(IdentitySecretKey);

impl UserSecretKey {
    /// A fresh user key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(IdentitySecretKey::generate(rng))
    }

    /// The recovery secret: the 32-byte seed, for the user to keep offline
    /// (SPEC.md §13.4, "lost primary"). Whoever holds it can sign device lists.
    pub fn to_recovery_secret(&self) -> Zeroizing<[u8; 32]> {
        self.0.to_seed()
    }

    /// The key behind a recovery secret from [`Self::to_recovery_secret`].
    pub fn from_recovery_secret(secret: &[u8; 32]) -> Self {
        Self(IdentitySecretKey::from_seed(secret))
    }

    /// The public half.
    pub fn public_key(&self) -> UserPublicKey {
        UserPublicKey(self.0.public_key())
    }

    pub(crate) fn sign_device_list(&self, content: &[u8]) -> Signature {
        self.0.sign_labeled(labels::sig::DEVICE_LIST, content)
    }
}

impl fmt::Debug for UserSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserSecretKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// A user's public key: what safety numbers between users cover (SPEC.md §13.5).
/// See the example on [`UserSecretKey`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserPublicKey(IdentityPublicKey);

impl UserPublicKey {
    /// Parses an encoded key, refusing non-canonical and small-order points.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        IdentityPublicKey::from_bytes(bytes).map(Self)
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The key as an Ed25519 identity key (for [`SafetyNumber`](crate::safety_number::SafetyNumber)).
    pub fn as_identity_key(&self) -> &IdentityPublicKey {
        &self.0
    }

    pub(crate) fn verify_device_list(
        &self,
        content: &[u8],
        signature: &Signature,
    ) -> Result<(), KeyError> {
        self.0
            .verify_labeled(labels::sig::DEVICE_LIST, content, signature)
    }
}

impl fmt::Debug for UserPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserPublicKey({:?})", self.0)
    }
}
