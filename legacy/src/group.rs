//! Legacy groups (SPEC.md §11.4): a shared X25519 group key, wrapped for each
//! member, and group messages sealed as v2 with `to` = the group id and the
//! recipient key id = the group key id.
//!
//! - **Group key**: 32 random bytes clamped as an X25519 scalar; the group
//!   public key is `X25519(k, 9)`. Never distribute a constant key.
//! - **Wrap** for member j, 48 bytes, no salt and no MAC:
//!   `SS_j = X25519(sk_creator, pk_j)`,
//!   `AES-256-CBC(SHA256(SS_j ‖ "Key"), fold(SHA256(SS_j ‖ "IV")), PKCS#7(k))`.
//! - **Message**: `SS_g = X25519(sk_sender, groupPublic) = X25519(k, pk_sender)`,
//!   then exactly v2.
//!
//! A member receives its wrap as a [`SharedGroupKey`] (the server's record:
//! group key id, creator and receiver key ids, wrap) and opens it with its own
//! key pairs and the creator's [`LegacyPublicKey`]. The result carries
//! [`WeakKeyFlags`] for auditors: a group key that is a known constant (one
//! open-source client registers the same key for every group), derived from
//! zero randomness, or unusable by clients that do not clamp is flagged, and
//! refused under [`WeakKeyPolicy::STRICT`] (SPEC.md §11.4).
//!
//! Weaknesses kept (§11.8): every member holds `k`, so any member can derive
//! `SS_g` for any sender and forge messages "from" anyone; the wrap is
//! unauthenticated CBC (its unwrap is a padding oracle to whoever can submit
//! wraps); nothing binds a key to a membership.
//!
//! ```
//! use letterseal_legacy::LegacyError;
//! use letterseal_legacy::group::{
//!     GroupKey, SharedGroupKey, WeakKeyPolicy, open_group, seal_group, wrap_group_key,
//! };
//! use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
//! use letterseal_legacy::keys::LegacyKeyPair;
//! use letterseal_legacy::v2::{Envelope, NonceLength};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
//!
//! let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1));
//! let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2));
//!
//! // Alice creates the group key and wraps it for Bob; the server assigns id 77.
//! let key = GroupKey::generate(&mut rng);
//! let group_key_id = LegacyKeyId::new(77);
//! let record = SharedGroupKey {
//!     group_key_id,
//!     creator_key_id: alice.key_id(),
//!     receiver_key_id: bob.key_id(),
//!     wrap: wrap_group_key(alice.secret_key(), &bob.public_key(), &key)?,
//! };
//! let at_bob = record.open(&[bob], &alice.public(), &WeakKeyPolicy::WARN)?;
//! assert!(at_bob.warnings().is_empty());
//! assert_eq!(at_bob.key().public_key(), key.public_key());
//!
//! let envelope = Envelope {
//!     to: LineId::parse("c0123456789abcdef0123456789abcdef")?,
//!     from: LineId::parse("u0123456789abcdef0123456789abcdef")?,
//!     content_type: LegacyContentType::TEXT,
//! };
//! let chunks = seal_group(&mut rng, NonceLength::default(), &alice, &key.public(group_key_id), &envelope, b"{}")?;
//! let opened = open_group(at_bob.key(), group_key_id, &alice.public_key(), &envelope, &chunks)?;
//! assert_eq!(opened.plaintext.as_slice(), b"{}");
//!
//! // The constant key one open-source client registers: flagged, refused if strict.
//! let constant = GroupKey::from_bytes(&[0; 32]);
//! assert!(constant.weaknesses(&[]).known_constant);
//! assert_eq!(constant.check(&WeakKeyPolicy::STRICT).unwrap_err(), LegacyError::WeakGroupKey);
//! # Ok::<(), letterseal_legacy::LegacyError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::chunks::Chunks;
use super::crypto;
use super::ids::LegacyKeyId;
use super::keys::{LegacyKeyPair, LegacyPrivateKey, LegacyPublicKey, LegacySharedSecret, find_key};
use super::v2::{self, Envelope, NonceLength, V2Message, V2Nonce};
use super::{LegacyError, Opened};
use crate::keys::{X25519PublicKey, X25519SecretKey};

/// Length of a group key wrap.
pub const WRAP_LEN: usize = 48;

/// Group keys published in client source code (SPEC.md §11.4), compared
/// after clamping. The one entry: the all-zero key that the open-source
/// client CHRLINE (`CHRLINE/e2ee.py`, `tryRegisterE2EEGroupKey`) registers
/// for every group it creates — `bytes(32)` until its commit 3dda93b
/// (2022-09-15), `Curve25519.generatePrivateKey(bytes(32))` (that clamped to
/// `00…0040`) since; X25519 uses both as the same scalar 2^254.
pub const KNOWN_CONSTANT_GROUP_KEYS: [[u8; 32]; 1] = [[0; 32]];

/// `k[0] &= 248; k[31] &= 127; k[31] |= 64` (RFC 7748 §5).
fn clamp(bytes: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new(*bytes);
    if let Some(first) = k.first_mut() {
        *first &= 248;
    }
    if let Some(last) = k.last_mut() {
        *last &= 127;
        *last |= 64;
    }
    k
}

/// A group's X25519 private key (SPEC.md §11.4). Zeroized on drop; `Debug`
/// shows the public key only.
///
/// ```
/// use letterseal_legacy::group::{GroupKey, WeakKeyPolicy};
/// use letterseal_legacy::ids::LegacyKeyId;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([34; 32]);
/// let key = GroupKey::generate(&mut rng);
/// assert!(key.check(&WeakKeyPolicy::STRICT)?.is_empty());
/// let stored = key.to_bytes(); // zeroized on drop
/// assert_eq!(GroupKey::from_bytes(&stored).public_key(), key.public_key());
///
/// // Receivers open with it as a key pair named by the group key id.
/// let id = LegacyKeyId::new(77);
/// assert_eq!(key.key_pair(id).public(), key.public(id));
/// // `from_random` clamps 32 random bytes, as `generate` does.
/// assert_eq!(GroupKey::from_random(&[0xff; 32]).to_bytes()[0] & 7, 0);
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct GroupKey([u8; 32]);

impl GroupKey {
    /// A fresh group key: 32 bytes from `rng`, clamped (SPEC.md §11.4).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut random = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(random.as_mut());
        Self::from_random(&random)
    }

    /// The group key for 32 random bytes: `k[0] &= 248; k[31] &= 127; k[31] |= 64`
    /// (SPEC.md §11.4).
    pub fn from_random(random: &[u8; 32]) -> Self {
        Self(*clamp(random))
    }

    /// The group key exactly as stored or unwrapped (X25519 clamps it on use).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(*bytes)
    }

    /// The 32 key bytes, for storing the key. Handle with care.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0)
    }

    /// The group public key, `X25519(k, 9)` (SPEC.md §11.4).
    pub fn public_key(&self) -> X25519PublicKey {
        X25519SecretKey::from_bytes(&self.0).public_key()
    }

    /// The group public key with the group key id the server assigned: what
    /// senders seal to.
    pub fn public(&self, group_key_id: LegacyKeyId) -> LegacyPublicKey {
        LegacyPublicKey {
            key_id: group_key_id,
            key: self.public_key(),
        }
    }

    /// The group key as a key pair named by the group key id, as receivers
    /// open with it.
    pub fn key_pair(&self, group_key_id: LegacyKeyId) -> LegacyKeyPair {
        LegacyKeyPair::from_bytes(group_key_id, &self.0)
    }

    /// `SS_g = X25519(k, pk_sender)`: what a member opens a sender's
    /// messages with (SPEC.md §11.4).
    pub(crate) fn agree(
        &self,
        sender: &X25519PublicKey,
    ) -> Result<LegacySharedSecret, LegacyError> {
        X25519SecretKey::from_bytes(&self.0).agree(sender)
    }

    /// The key's weaknesses (SPEC.md §11.4), `denylist` adding constants to
    /// [`KNOWN_CONSTANT_GROUP_KEYS`]. Every comparison is constant time; only
    /// the flags are revealed.
    pub fn weaknesses(&self, denylist: &[[u8; 32]]) -> WeakKeyFlags {
        let scalar = clamp(&self.0);
        let known_constant = KNOWN_CONSTANT_GROUP_KEYS
            .iter()
            .chain(denylist)
            .fold(subtle::Choice::from(0), |found, constant| {
                found | scalar.ct_eq(&*clamp(constant))
            });
        let zero_derived = scalar.ct_eq(&*clamp(&[0; 32]));
        let mut reduced = Scalar::from_bytes_mod_order(self.0);
        let small_order = reduced.ct_eq(&Scalar::ZERO);
        reduced.zeroize();
        WeakKeyFlags {
            known_constant: known_constant.into(),
            zero_derived: zero_derived.into(),
            small_order: small_order.into(),
        }
    }

    /// [`GroupKey::weaknesses`] under `policy`: the flags, or
    /// [`LegacyError::WeakGroupKey`] if the policy is strict and any is set.
    pub fn check(&self, policy: &WeakKeyPolicy<'_>) -> Result<WeakKeyFlags, LegacyError> {
        let flags = self.weaknesses(policy.denylist);
        if policy.strict && !flags.is_empty() {
            Err(LegacyError::WeakGroupKey)
        } else {
            Ok(flags)
        }
    }
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// What is weak about a group key (SPEC.md §11.4), for auditors. Any flag set
/// means outsiders may know the key, or some clients cannot use it.
///
/// ```
/// use letterseal_legacy::group::{GroupKey, WeakKeyFlags};
///
/// // A creator that drew no randomness.
/// let flags: WeakKeyFlags = GroupKey::from_random(&[0; 32]).weaknesses(&[]);
/// assert!(flags.zero_derived && !flags.is_empty());
/// assert!(flags.names().contains(&"ZeroDerived"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeakKeyFlags {
    /// After clamping, the key equals a constant published in client source
    /// code ([`KNOWN_CONSTANT_GROUP_KEYS`]) or one of the policy's denylist:
    /// anyone who read that source can open the group's messages.
    pub known_constant: bool,
    /// After clamping, the key is what all-zero "randomness" gives
    /// (`00…0040`): its creator drew no randomness.
    pub zero_derived: bool,
    /// Read as an unclamped scalar, `k ≡ 0 (mod ℓ)`: its public key `[k]B`
    /// is the identity, of small order, so every agreement of a client that
    /// does not clamp ([`RawScalarKeyPair`](super::keys::RawScalarKeyPair))
    /// is all zeros. (Clamped scalars never give a small-order public key.)
    pub small_order: bool,
}

impl WeakKeyFlags {
    /// No flag set.
    pub fn is_empty(&self) -> bool {
        !(self.known_constant || self.zero_derived || self.small_order)
    }

    /// The names of the flags set (`KnownConstant`, `ZeroDerived`,
    /// `SmallOrder`), in that order, as the test vectors and the demo print them.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.known_constant, "KnownConstant"),
            (self.zero_derived, "ZeroDerived"),
            (self.small_order, "SmallOrder"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

/// How to treat a weak group key (SPEC.md §11.4): warn (return the flags) or
/// refuse ([`LegacyError::WeakGroupKey`]); `denylist` adds constants to
/// [`KNOWN_CONSTANT_GROUP_KEYS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WeakKeyPolicy<'a> {
    /// Refuse a key with any flag instead of returning the flags.
    pub strict: bool,
    /// Further known constants (compared after clamping).
    pub denylist: &'a [[u8; 32]],
}

impl WeakKeyPolicy<'static> {
    /// Return the flags; refuse nothing (the default).
    pub const WARN: Self = Self {
        strict: false,
        denylist: &[],
    };
    /// Refuse any flagged key with [`LegacyError::WeakGroupKey`].
    pub const STRICT: Self = Self {
        strict: true,
        denylist: &[],
    };
}

/// A group key wrapped for one member: 48 bytes of unauthenticated CBC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WrappedGroupKey([u8; WRAP_LEN]);

impl WrappedGroupKey {
    /// Wraps 48 bytes.
    pub fn from_bytes(bytes: [u8; WRAP_LEN]) -> Self {
        Self(bytes)
    }

    /// Checks the length (exactly 48 bytes, otherwise [`LegacyError::Malformed`]).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, LegacyError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| LegacyError::Malformed)
    }

    /// The 48 bytes.
    pub fn as_bytes(&self) -> &[u8; WRAP_LEN] {
        &self.0
    }
}

/// CBC-decrypts a wrap with `SS` already agreed; exactly 32 bytes with valid
/// padding, decided in constant time (SPEC.md §11.4). (The name keeps
/// `unwrap_group_key` in it: the constant-time check's suppression of this
/// one decision, `ct/supp/decisions.supp`, matches the caller's name.)
fn unwrap_group_key_shared(
    shared: &LegacySharedSecret,
    wrap: &WrappedGroupKey,
) -> Result<GroupKey, LegacyError> {
    let wrap_key = crypto::message_key(shared, b"");
    let iv = crypto::message_iv(shared, b"");
    // One constant-time decision: the wrap is unauthenticated CBC, so the
    // padding check must not become a finer oracle than accept/reject.
    let plaintext = crypto::cbc_decrypt_exact(&wrap_key, &iv, &wrap.0, 32)?;
    let bytes: &[u8; 32] = plaintext
        .as_slice()
        .try_into()
        .map_err(|_| LegacyError::Malformed)?;
    Ok(GroupKey::from_bytes(bytes))
}

/// A group key as the server hands it to one member (LINE's
/// `E2EEGroupSharedKey`, SPEC.md §11.4): the group key id, the creator's and
/// the receiver's key ids, and the wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SharedGroupKey {
    /// The id the server assigned to the group key.
    pub group_key_id: LegacyKeyId,
    /// The key id of the creator's key that made the wrap.
    pub creator_key_id: LegacyKeyId,
    /// The key id of the receiver's key the wrap is for.
    pub receiver_key_id: LegacyKeyId,
    /// The 48-byte wrap.
    pub wrap: WrappedGroupKey,
}

impl SharedGroupKey {
    /// Unwraps with the receiver's key named by `receiver_key_id` and the
    /// creator's public key (SPEC.md §11.4), then checks the key under
    /// `policy`. In order: [`LegacyError::UnknownKey`] if `creator` is not the
    /// key `creator_key_id` names or no key of `my_keys` is
    /// `receiver_key_id`; [`LegacyError::NonContributory`];
    /// [`LegacyError::DecryptionFailed`] (padding, or not 32 bytes; the wrap
    /// has no MAC, so a corrupted wrap may also unwrap to another key);
    /// [`LegacyError::WeakGroupKey`] under a strict policy.
    pub fn open<K: LegacyPrivateKey>(
        &self,
        my_keys: &[K],
        creator: &LegacyPublicKey,
        policy: &WeakKeyPolicy<'_>,
    ) -> Result<UnwrappedGroupKey, LegacyError> {
        if creator.key_id != self.creator_key_id {
            return Err(LegacyError::UnknownKey);
        }
        let me = find_key(my_keys, self.receiver_key_id)?;
        let key = unwrap_group_key_shared(&me.agree(&creator.key)?, &self.wrap)?;
        let warnings = key.check(policy)?;
        Ok(UnwrappedGroupKey {
            key,
            group_key_id: self.group_key_id,
            warnings,
        })
    }
}

/// An unwrapped group key with its group key id and its weakness flags.
/// Zeroized on drop; `Debug` shows no secret. See the examples in the
/// [module docs](self) and on
/// [`GroupSenderSession`](super::session::GroupSenderSession).
#[derive(Debug)]
pub struct UnwrappedGroupKey {
    key: GroupKey,
    group_key_id: LegacyKeyId,
    warnings: WeakKeyFlags,
}

impl ZeroizeOnDrop for UnwrappedGroupKey {}

impl UnwrappedGroupKey {
    /// The group key.
    pub fn key(&self) -> &GroupKey {
        &self.key
    }

    /// The group key id.
    pub fn group_key_id(&self) -> LegacyKeyId {
        self.group_key_id
    }

    /// What is weak about the key (empty for a proper random key).
    pub fn warnings(&self) -> WeakKeyFlags {
        self.warnings
    }

    /// The group public key with its id, as senders seal to it.
    pub fn public(&self) -> LegacyPublicKey {
        self.key.public(self.group_key_id)
    }
}

/// Wraps `key` for a member (the creator included) (SPEC.md §11.4).
pub fn wrap_group_key(
    creator: &X25519SecretKey,
    member: &X25519PublicKey,
    key: &GroupKey,
) -> Result<WrappedGroupKey, LegacyError> {
    let shared = creator.agree(member)?;
    wrap_shared(&shared, key)
}

/// [`wrap_group_key`] for a creator key of either scalar convention.
pub fn wrap_group_key_for(
    creator: &impl LegacyPrivateKey,
    member: &LegacyPublicKey,
    key: &GroupKey,
) -> Result<WrappedGroupKey, LegacyError> {
    wrap_shared(&creator.agree(&member.key)?, key)
}

fn wrap_shared(
    shared: &LegacySharedSecret,
    key: &GroupKey,
) -> Result<WrappedGroupKey, LegacyError> {
    let wrap_key = crypto::message_key(shared, b"");
    let iv = crypto::message_iv(shared, b"");
    WrappedGroupKey::from_slice(&crypto::cbc_encrypt(&wrap_key, &iv, &key.0))
}

/// Unwraps a group key with the member's private key (the one for
/// `receiverKeyId`) and the creator's public key (the one for `creatorKeyId`)
/// (SPEC.md §11.4). The low-level step: no key-id bookkeeping and no weakness
/// check ([`SharedGroupKey::open`] does both). A padding error or a result
/// that is not 32 bytes is [`LegacyError::DecryptionFailed`]. The wrap is not
/// authenticated: a wrong key usually, but not always, fails the padding check.
///
/// ```
/// use letterseal_legacy::keys::X25519SecretKey;
/// use letterseal_legacy::group::{GroupKey, unwrap_group_key, wrap_group_key};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([37; 32]);
/// let (creator, member) = (X25519SecretKey::generate(&mut rng), X25519SecretKey::generate(&mut rng));
/// let key = GroupKey::generate(&mut rng);
/// let wrap = wrap_group_key(&creator, &member.public_key(), &key)?;
/// let unwrapped = unwrap_group_key(&member, &creator.public_key(), &wrap)?;
/// assert_eq!(unwrapped.public_key(), key.public_key());
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
pub fn unwrap_group_key(
    member: &X25519SecretKey,
    creator: &X25519PublicKey,
    wrap: &WrappedGroupKey,
) -> Result<GroupKey, LegacyError> {
    unwrap_group_key_shared(&member.agree(creator)?, wrap)
}

/// Seals a group message (SPEC.md §11.4): v2 with `envelope.to` = the group
/// id, `group` = the group public key and group key id; salt and a random
/// nonce of `nonce_length` bytes from `rng`.
pub fn seal_group<R: CryptoRng + ?Sized>(
    rng: &mut R,
    nonce_length: NonceLength,
    sender: &impl LegacyPrivateKey,
    group: &LegacyPublicKey,
    envelope: &Envelope,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    v2::seal_v2(rng, nonce_length, sender, group, envelope, plaintext)
}

/// [`seal_group`] with an explicit salt and nonce, for test vectors.
pub fn seal_group_with(
    salt: &[u8; v2::SALT_LEN],
    nonce: &V2Nonce,
    sender: &impl LegacyPrivateKey,
    group: &LegacyPublicKey,
    envelope: &Envelope,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    v2::seal_v2_with(salt, nonce, sender, group, envelope, plaintext)
}

/// Opens a group message with the group key (SPEC.md §11.4): the message's
/// recipient key id must be `group_key_id` ([`LegacyError::UnknownKey`]),
/// then `SS_g = X25519(k, pk_sender)` and v2. Key-id chunks are read
/// big-endian; for compact ones use a [session](super::session).
pub fn open_group(
    key: &GroupKey,
    group_key_id: LegacyKeyId,
    sender_public: &X25519PublicKey,
    envelope: &Envelope,
    chunks: &Chunks,
) -> Result<Opened, LegacyError> {
    let message = V2Message::from_chunks(chunks)?;
    message.open(&[key.key_pair(group_key_id)], sender_public, envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LegacyContentType, LineId};
    use crate::keys::RawScalarKeyPair;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn envelope(from: &str) -> Envelope {
        Envelope {
            to: LineId::parse("c0123456789abcdef0123456789abcdef").unwrap(),
            from: LineId::parse(from).unwrap(),
            content_type: LegacyContentType::TEXT,
        }
    }

    const ALICE: &str = "u0000000000000000000000000000000a";
    const CAROL: &str = "u0000000000000000000000000000000c";

    #[test]
    fn clamping_and_known_answers_against_python() {
        // Computed independently with Python `cryptography`.
        let key = GroupKey::from_random(&[0x11; 32]);
        assert_eq!(
            hex::encode(*key.to_bytes()),
            "1011111111111111111111111111111111111111111111111111111111111151"
        );
        assert_eq!(
            hex::encode(key.public_key().as_bytes()),
            "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"
        );
        let creator = X25519SecretKey::from_bytes(&[1; 32]);
        let member = X25519SecretKey::from_bytes(&[2; 32]);
        let wrap = wrap_group_key(&creator, &member.public_key(), &key).unwrap();
        assert_eq!(
            hex::encode(wrap.as_bytes()),
            "d4cfb03611d838d4ba1f125ac9af160002300862b2fdca84d1cd568ec2e12163\
             8ed83a9f3f62b429d7f8f6c464e8391d"
        );
        let back = unwrap_group_key(&member, &creator.public_key(), &wrap).unwrap();
        assert_eq!(*back.to_bytes(), *key.to_bytes());
        // The creator unwraps its own wrap (pk_j = its own public key).
        let own = wrap_group_key(&creator, &creator.public_key(), &key).unwrap();
        let own_back = unwrap_group_key(&creator, &creator.public_key(), &own).unwrap();
        assert_eq!(*own_back.to_bytes(), *key.to_bytes());
    }

    #[test]
    fn generated_keys_are_clamped_and_distinct() {
        let mut rng = ChaCha20Rng::from_seed([8; 32]);
        let a = GroupKey::generate(&mut rng);
        let b = GroupKey::generate(&mut rng);
        assert_ne!(*a.to_bytes(), *b.to_bytes());
        for key in [a, b] {
            let bytes = key.to_bytes();
            assert_eq!(bytes[0] & 7, 0);
            assert_eq!(bytes[31] & 0xc0, 0x40);
        }
    }

    #[test]
    fn unwrap_errors() {
        let key = GroupKey::from_random(&[0x11; 32]);
        let creator = X25519SecretKey::from_bytes(&[1; 32]);
        let member = X25519SecretKey::from_bytes(&[2; 32]);
        let wrap = wrap_group_key(&creator, &member.public_key(), &key).unwrap();
        assert_eq!(
            WrappedGroupKey::from_slice(&[0; 47]),
            Err(LegacyError::Malformed)
        );
        assert_eq!(
            WrappedGroupKey::from_slice(&[0; 64]),
            Err(LegacyError::Malformed)
        );
        // Flipping the last byte of the middle block turns the final padding
        // byte 0x10 into 0x11, which is invalid.
        let mut bad = *wrap.as_bytes();
        bad[31] ^= 1;
        assert_eq!(
            unwrap_group_key(
                &member,
                &creator.public_key(),
                &WrappedGroupKey::from_bytes(bad)
            )
            .unwrap_err(),
            LegacyError::DecryptionFailed
        );
        // A wrap of 33 bytes has valid padding but the wrong length.
        let shared = creator.agree(&member.public_key()).unwrap();
        let short = crypto::cbc_encrypt(
            &crypto::message_key(&shared, b""),
            &crypto::message_iv(&shared, b""),
            &[0u8; 33],
        );
        assert_eq!(short.len(), 48);
        assert_eq!(
            unwrap_group_key(
                &member,
                &creator.public_key(),
                &WrappedGroupKey::from_slice(&short).unwrap()
            )
            .unwrap_err(),
            LegacyError::DecryptionFailed
        );
        let small = X25519PublicKey::from_bytes([0; 32]);
        assert_eq!(
            unwrap_group_key(&member, &small, &wrap).unwrap_err(),
            LegacyError::NonContributory
        );
        assert_eq!(
            wrap_group_key(&creator, &small, &key).unwrap_err(),
            LegacyError::NonContributory
        );
    }

    #[test]
    fn group_round_trip_and_errors() {
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let alice = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[1; 32]);
        let key = GroupKey::from_random(&[0x22; 32]);
        let id = LegacyKeyId::new(500);
        let env = envelope(ALICE);
        let chunks = seal_group(
            &mut rng,
            NonceLength::Twelve,
            &alice,
            &key.public(id),
            &env,
            b"hello",
        )
        .unwrap();
        let opened = open_group(&key, id, &alice.public_key(), &env, &chunks).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"hello");
        assert_eq!(opened.recipient_key_id, id);
        assert_eq!(
            open_group(
                &key,
                LegacyKeyId::new(501),
                &alice.public_key(),
                &env,
                &chunks
            )
            .unwrap_err(),
            LegacyError::UnknownKey
        );
        assert_eq!(
            open_group(&key, id, &alice.public_key(), &envelope(CAROL), &chunks).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        let mut bad = chunks.clone().into_array();
        bad[2].push(0);
        assert_eq!(
            open_group(&key, id, &alice.public_key(), &env, &Chunks::new(bad)).unwrap_err(),
            LegacyError::Malformed
        );
        let explicit = seal_group_with(
            &[1; 16],
            &V2Nonce::Long([2; 16]),
            &alice,
            &key.public(id),
            &env,
            b"x",
        )
        .unwrap();
        assert!(open_group(&key, id, &alice.public_key(), &env, &explicit).is_ok());
    }

    #[test]
    fn any_member_can_forge_any_sender() {
        // §11.8: Bob holds k, so he computes SS_g = X25519(k, pk_carol) and
        // seals a message that opens as coming from Carol.
        let key = GroupKey::from_random(&[0x33; 32]);
        let id = LegacyKeyId::new(9);
        let carol = LegacyKeyPair::from_bytes(LegacyKeyId::new(3), &[3; 32]);
        let forged_by_bob = {
            let as_recipient = key.key_pair(LegacyKeyId::new(3));
            let target = LegacyPublicKey {
                key_id: id,
                key: carol.public_key(),
            };
            // Sealing "from Carol" needs only SS_g, which is symmetric.
            let env = envelope(CAROL);
            let chunks = seal_group_with(
                &[5; 16],
                &V2Nonce::Standard([6; 12]),
                &as_recipient,
                &target,
                &env,
                b"forged",
            )
            .unwrap();
            (chunks, env)
        };
        let opened = open_group(
            &key,
            id,
            &carol.public_key(),
            &forged_by_bob.1,
            &forged_by_bob.0,
        )
        .unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"forged");
        assert_eq!(opened.sender_key_id, LegacyKeyId::new(3));
    }

    #[test]
    fn weak_key_flags() {
        let flags = |bytes: [u8; 32]| GroupKey::from_bytes(&bytes).weaknesses(&[]).names();
        // CHRLINE before 2022-09-15: bytes(32); since: generatePrivateKey(bytes(32)).
        let mut clamped_zero = [0u8; 32];
        clamped_zero[31] = 0x40;
        assert_eq!(
            flags([0; 32]),
            ["KnownConstant", "ZeroDerived", "SmallOrder"]
        );
        assert_eq!(flags(clamped_zero), ["KnownConstant", "ZeroDerived"]);
        // Bits that clamping clears or sets do not hide the constant.
        let mut noisy = clamped_zero;
        noisy[0] = 0x07;
        noisy[31] = 0xc0;
        assert_eq!(flags(noisy), ["KnownConstant", "ZeroDerived"]);
        // ℓ, as a raw scalar, is ≡ 0: its unclamped public key is the identity.
        let mut order = [0u8; 32];
        order.copy_from_slice(
            &hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                .unwrap(),
        );
        assert_eq!(flags(order), ["SmallOrder"]);
        // Proper keys carry no flag.
        assert!(flags(*GroupKey::from_random(&[0x5a; 32]).to_bytes()).is_empty());
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        assert!(GroupKey::generate(&mut rng).weaknesses(&[]).is_empty());
        // A caller's denylist: compared after clamping.
        let listed = GroupKey::from_random(&[0x77; 32]);
        let flagged = listed.weaknesses(&[[0x77; 32]]);
        assert_eq!(flagged.names(), ["KnownConstant"]);
        // A constant listed twice (here once more with the bits clamping ignores changed), or a
        // denylist repeating a published one, still flags the key: matches are OR-ed, not toggled.
        let mut same_after_clamping = [0x77; 32];
        same_after_clamping[0] = 0x70;
        same_after_clamping[31] = 0xf7;
        assert_eq!(
            listed
                .weaknesses(&[[0x77; 32], same_after_clamping])
                .names(),
            ["KnownConstant"]
        );
        assert_eq!(
            GroupKey::from_bytes(&[0; 32])
                .weaknesses(&[[0; 32]])
                .names(),
            ["KnownConstant", "ZeroDerived", "SmallOrder"]
        );
        let policy = WeakKeyPolicy {
            strict: false,
            denylist: &[[0x77; 32]],
        };
        assert_eq!(listed.check(&policy), Ok(flagged));
        let strict = WeakKeyPolicy {
            strict: true,
            ..policy
        };
        assert_eq!(listed.check(&strict), Err(LegacyError::WeakGroupKey));
        assert_eq!(
            listed.check(&WeakKeyPolicy::STRICT).unwrap().names().len(),
            0
        );
        assert_eq!(WeakKeyPolicy::default(), WeakKeyPolicy::WARN);
    }

    #[test]
    fn shared_group_key_open() {
        let creator = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[1; 32]);
        let member = [
            LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[2; 32]),
            LegacyKeyPair::from_bytes(LegacyKeyId::new(3), &[3; 32]),
        ];
        let record = |key: &GroupKey, receiver: usize| SharedGroupKey {
            group_key_id: LegacyKeyId::new(77),
            creator_key_id: creator.key_id(),
            receiver_key_id: member[receiver].key_id(),
            wrap: wrap_group_key_for(&creator, &member[receiver].public(), key).unwrap(),
        };
        let key = GroupKey::from_random(&[0x44; 32]);
        let opened = record(&key, 1)
            .open(&member, &creator.public(), &WeakKeyPolicy::STRICT)
            .unwrap();
        assert_eq!(*opened.key().to_bytes(), *key.to_bytes());
        assert_eq!(opened.group_key_id(), LegacyKeyId::new(77));
        assert_eq!(opened.public(), key.public(LegacyKeyId::new(77)));
        assert!(opened.warnings().is_empty());
        assert!(!alloc::format!("{opened:?}").contains("4444"));
        // Key ids.
        let mut other_creator = creator.public();
        other_creator.key_id = LegacyKeyId::new(9);
        assert_eq!(
            record(&key, 1)
                .open(&member, &other_creator, &WeakKeyPolicy::WARN)
                .unwrap_err(),
            LegacyError::UnknownKey
        );
        assert_eq!(
            record(&key, 1)
                .open(&member[..1], &creator.public(), &WeakKeyPolicy::WARN)
                .unwrap_err(),
            LegacyError::UnknownKey
        );
        // A small-order creator key.
        let zero = LegacyPublicKey {
            key_id: creator.key_id(),
            key: X25519PublicKey::from_bytes([0; 32]),
        };
        assert_eq!(
            record(&key, 1)
                .open(&member, &zero, &WeakKeyPolicy::WARN)
                .unwrap_err(),
            LegacyError::NonContributory
        );
        // Padding.
        let mut broken = record(&key, 0);
        let mut bytes = *broken.wrap.as_bytes();
        bytes[31] ^= 1;
        broken.wrap = WrappedGroupKey::from_bytes(bytes);
        assert_eq!(
            broken
                .open(&member, &creator.public(), &WeakKeyPolicy::WARN)
                .unwrap_err(),
            LegacyError::DecryptionFailed
        );
        // The constant key: flagged, or refused.
        let constant = GroupKey::from_bytes(&[0; 32]);
        let warned = record(&constant, 0)
            .open(&member, &creator.public(), &WeakKeyPolicy::WARN)
            .unwrap();
        assert!(warned.warnings().known_constant);
        assert_eq!(
            record(&constant, 0)
                .open(&member, &creator.public(), &WeakKeyPolicy::STRICT)
                .unwrap_err(),
            LegacyError::WeakGroupKey
        );
        // Raw-scalar members unwrap too.
        let raw = [RawScalarKeyPair::from_unclamped_scalar(
            LegacyKeyId::new(8),
            &[0x13; 32],
        )];
        let for_raw = SharedGroupKey {
            receiver_key_id: LegacyKeyId::new(8),
            wrap: wrap_group_key_for(&creator, &raw[0].public(), &key).unwrap(),
            ..record(&key, 0)
        };
        let at_raw = for_raw
            .open(&raw, &creator.public(), &WeakKeyPolicy::STRICT)
            .unwrap();
        assert_eq!(*at_raw.key().to_bytes(), *key.to_bytes());
    }

    #[test]
    fn debug_prints_no_secret() {
        let key = GroupKey::from_random(&[0xcc; 32]);
        let text = alloc::format!("{key:?}");
        assert!(text.starts_with("GroupKey"));
        assert!(!text.contains("cccc"));
        assert!(!text.contains("204, 204"));
    }
}
