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
//! Weaknesses kept (§11.8): every member holds `k`, so any member can derive
//! `SS_g` for any sender and forge messages "from" anyone; the wrap is
//! unauthenticated CBC (its unwrap is a padding oracle to whoever can submit
//! wraps); nothing binds a key to a membership.
//!
//! ```
//! use letterseal::legacy::group::{GroupKey, open_group, seal_group, unwrap_group_key, wrap_group_key};
//! use letterseal::legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
//! use letterseal::legacy::keys::LegacyKeyPair;
//! use letterseal::legacy::v2::Envelope;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
//!
//! let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1));
//! let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2));
//!
//! // Alice creates the group key and wraps it for Bob; the server assigns id 77.
//! let key = GroupKey::generate(&mut rng);
//! let group_key_id = LegacyKeyId::new(77);
//! let wrap = wrap_group_key(alice.secret_key(), &bob.public_key(), &key)?;
//! let at_bob = unwrap_group_key(bob.secret_key(), &alice.public_key(), &wrap)?;
//! assert_eq!(at_bob.public_key(), key.public_key());
//!
//! let envelope = Envelope {
//!     to: LineId::parse("c0123456789abcdef0123456789abcdef")?,
//!     from: LineId::parse("u0123456789abcdef0123456789abcdef")?,
//!     content_type: LegacyContentType::TEXT,
//! };
//! let chunks = seal_group(&mut rng, 1, &alice, &key.public(group_key_id), &envelope, b"{}")?;
//! let opened = open_group(&at_bob, group_key_id, &alice.public_key(), &envelope, &chunks)?;
//! assert_eq!(opened.plaintext.as_slice(), b"{}");
//! # Ok::<(), letterseal::legacy::LegacyError>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::chunks::Chunks;
use super::crypto;
use super::ids::LegacyKeyId;
use super::keys::{LegacyKeyPair, LegacyPublicKey};
use super::v2::{self, Envelope, V2Message, V2Nonce};
use super::{LegacyError, Opened};
use crate::keys::{SealingPublicKey, SealingSecretKey};

/// Length of a group key wrap.
pub const WRAP_LEN: usize = 48;

/// A group's X25519 private key (SPEC.md §11.4). Zeroized on drop; `Debug`
/// shows the public key only.
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
        let mut key = Self(*random);
        if let Some(first) = key.0.first_mut() {
            *first &= 248;
        }
        if let Some(last) = key.0.last_mut() {
            *last &= 127;
            *last |= 64;
        }
        key
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
    pub fn public_key(&self) -> SealingPublicKey {
        SealingSecretKey::from_bytes(&self.0).public_key()
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
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
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

/// Wraps `key` for a member (the creator included) (SPEC.md §11.4).
pub fn wrap_group_key(
    creator: &SealingSecretKey,
    member: &SealingPublicKey,
    key: &GroupKey,
) -> Result<WrappedGroupKey, LegacyError> {
    let shared = crypto::agree(creator, member)?;
    let wrap_key = crypto::message_key(&shared, b"");
    let iv = crypto::message_iv(&shared, b"");
    WrappedGroupKey::from_slice(&crypto::cbc_encrypt(&wrap_key, &iv, &key.0))
}

/// Unwraps a group key with the member's private key (the one for
/// `receiverKeyId`) and the creator's public key (the one for `creatorKeyId`)
/// (SPEC.md §11.4). A padding error or a result that is not 32 bytes is
/// [`LegacyError::DecryptionFailed`]. The wrap is not authenticated: a wrong
/// key usually, but not always, fails the padding check.
pub fn unwrap_group_key(
    member: &SealingSecretKey,
    creator: &SealingPublicKey,
    wrap: &WrappedGroupKey,
) -> Result<GroupKey, LegacyError> {
    let shared = crypto::agree(member, creator)?;
    let wrap_key = crypto::message_key(&shared, b"");
    let iv = crypto::message_iv(&shared, b"");
    // One constant-time decision: the wrap is unauthenticated CBC, so the
    // padding check must not become a finer oracle than accept/reject.
    let plaintext = crypto::cbc_decrypt_exact(&wrap_key, &iv, &wrap.0, 32)?;
    let bytes: &[u8; 32] = plaintext
        .as_slice()
        .try_into()
        .map_err(|_| LegacyError::Malformed)?;
    Ok(GroupKey::from_bytes(bytes))
}

/// Seals a group message (SPEC.md §11.4): v2 with `envelope.to` = the group
/// id, `group` = the group public key and group key id; salt and nonce random
/// part from `rng`, nonce counter from the caller.
pub fn seal_group<R: CryptoRng + ?Sized>(
    rng: &mut R,
    counter: u64,
    sender: &LegacyKeyPair,
    group: &LegacyPublicKey,
    envelope: &Envelope,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    v2::seal_v2(rng, counter, sender, group, envelope, plaintext)
}

/// [`seal_group`] with an explicit salt and nonce, for test vectors.
pub fn seal_group_with(
    salt: &[u8; v2::SALT_LEN],
    nonce: &V2Nonce,
    sender: &LegacyKeyPair,
    group: &LegacyPublicKey,
    envelope: &Envelope,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    v2::seal_v2_with(salt, nonce, sender, group, envelope, plaintext)
}

/// Opens a group message with the group key (SPEC.md §11.4): the message's
/// recipient key id must be `group_key_id` ([`LegacyError::UnknownKey`]),
/// then `SS_g = X25519(k, pk_sender)` and v2.
pub fn open_group(
    key: &GroupKey,
    group_key_id: LegacyKeyId,
    sender_public: &SealingPublicKey,
    envelope: &Envelope,
    chunks: &Chunks,
) -> Result<Opened, LegacyError> {
    let message = V2Message::from_chunks(chunks)?;
    message.open(&[key.key_pair(group_key_id)], sender_public, envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::ids::{LegacyContentType, LineId};
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
        let creator = SealingSecretKey::from_bytes(&[1; 32]);
        let member = SealingSecretKey::from_bytes(&[2; 32]);
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
        let creator = SealingSecretKey::from_bytes(&[1; 32]);
        let member = SealingSecretKey::from_bytes(&[2; 32]);
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
        let shared = crypto::agree(&creator, &member.public_key()).unwrap();
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
        let small = SealingPublicKey::from_bytes([0; 32]);
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
        let chunks = seal_group(&mut rng, 3, &alice, &key.public(id), &env, b"hello").unwrap();
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
    fn debug_prints_no_secret() {
        let key = GroupKey::from_random(&[0xcc; 32]);
        let text = alloc::format!("{key:?}");
        assert!(text.starts_with("GroupKey"));
        assert!(!text.contains("cccc"));
        assert!(!text.contains("204, 204"));
    }
}
