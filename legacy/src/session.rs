//! One-call legacy sessions (SPEC.md §11.9): one object per key pair, caching
//! the X25519 agreement, sealing and opening a message in one call and
//! returning its content type and typed [`Payload`].
//!
//! | type | key pair | seals | opens |
//! |---|---|---|---|
//! | [`PeerSession`] | my key, a peer's key | 1:1 v2 (and v1) to the peer | 1:1 v1 and v2 from the peer |
//! | [`GroupSenderSession`] | my key, the group public key | group messages from me | my own group messages |
//! | [`GroupMemberSession`] | the group key, one member's key | — (that would be forging) | that member's group messages |
//!
//! Each caches `SS` (zeroized on drop, never printed): a message then costs
//! one SHA-256 and one AES-256-GCM pass. Opening:
//!
//! 1. the key-id chunks: big-endian or Thrift compact, told apart by
//!    [`detect_key_id_encoding`] with the session's own recipient key id
//!    (compact chunks give their typed errors);
//! 2. the chunk lengths ([`LegacyError::Malformed`]);
//! 3. the key ids must be the session's: recipient key id = mine (or the
//!    group key id), sender key id = the peer's ([`LegacyError::UnknownKey`]);
//! 4. the MAC or tag ([`LegacyError::DecryptionFailed`]); nothing is released
//!    on failure;
//! 5. the payload ([`Payload::parse_any`]; [`LegacyError::InvalidPayload`]).
//!
//! Sealing uses [`SealOptions`]: by default what deployed clients send, 16
//! random nonce bytes and big-endian key ids; 12-byte nonces and compact key
//! ids on request. The version and content type travel outside the chunks
//! (the message's `e2eeVersion` and `contentType` metadata); v2 binds the
//! content type into the AAD, v1 binds nothing.
//!
//! ```
//! use letterseal_legacy::ids::{KeyIdEncoding, LegacyContentType, LegacyKeyId, LineId};
//! use letterseal_legacy::keys::LegacyKeyPair;
//! use letterseal_legacy::payload::{Location, Payload};
//! use letterseal_legacy::session::{LegacyVersion, PeerSession, SealOptions};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//!
//! let alice_id = LineId::parse("u000000000000000000000000000a11ce")?;
//! let bob_id = LineId::parse("u00000000000000000000000000000b0b")?;
//! let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2_500_001));
//! let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2_500_002));
//!
//! let at_alice = PeerSession::new(&alice, alice_id, &bob.public(), bob_id)?
//!     .with_options(SealOptions { key_id_encoding: KeyIdEncoding::Compact, ..SealOptions::default() });
//! let at_bob = PeerSession::new(&bob, bob_id, &alice.public(), alice_id)?;
//!
//! let here = Payload::Location(Location::new(35.6812, 139.7671)?.with_title("Tokyo Station"));
//! let chunks = at_alice.seal(&mut rng, LegacyContentType::LOCATION, &here)?;
//! assert_eq!(chunks.as_slices()[2].len(), 16); // the nonce
//!
//! let received = at_bob.open(LegacyVersion::V2, LegacyContentType::LOCATION, &chunks)?;
//! assert_eq!(received.payload, here);
//! assert_eq!(received.key_id_encoding, KeyIdEncoding::Compact);
//! # Ok::<(), letterseal_legacy::LegacyError>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use zeroize::ZeroizeOnDrop;

use super::chunks::Chunks;
use super::group::GroupKey;
use super::ids::{KeyIdEncoding, LegacyContentType, LegacyKeyId, LineId, detect_key_id_encoding};
use super::keys::{LegacyPrivateKey, LegacyPublicKey, LegacySharedSecret};
use super::payload::Payload;
use super::v1::{self, V1Message};
use super::v2::{self, Envelope, NonceLength, V2Message, V2Nonce, V2Parts};
use super::{LegacyError, Opened};

/// The legacy version of a message, from its `e2eeVersion` metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegacyVersion {
    /// 1:1 v1 (SPEC.md §11.2): CBC and the folded ECB MAC.
    V1,
    /// v2 (SPEC.md §11.3, §11.4): AES-256-GCM with the 82-byte AAD.
    V2,
}

/// How a session seals (SPEC.md §11.9). The default is what deployed clients
/// send: 16 random nonce bytes, big-endian key-id chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SealOptions {
    /// The length of the random v2 nonce.
    pub nonce_length: NonceLength,
    /// How the key-id chunks are written.
    pub key_id_encoding: KeyIdEncoding,
}

/// An opened message: content type, typed payload, and how it was written.
/// `Debug` prints no content. See the example on [`PeerSession`].
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    /// The content type (v2 authenticates it; v1 does not).
    pub content_type: LegacyContentType,
    /// The plaintext, parsed for its content type.
    pub payload: Payload,
    /// The version the message was opened as.
    pub version: LegacyVersion,
    /// How its key-id chunks were written.
    pub key_id_encoding: KeyIdEncoding,
}

/// What every session holds: `SS` and the two key ids.
struct Core {
    shared: LegacySharedSecret,
    /// My key id (the group key id in a [`GroupMemberSession`]).
    local_key_id: LegacyKeyId,
    /// The other side's key id (the group key id in a [`GroupSenderSession`]).
    remote_key_id: LegacyKeyId,
    options: SealOptions,
}

impl Core {
    /// Seals v2 from `local` to `remote` with `envelope`.
    fn seal_v2_with(
        &self,
        salt: &[u8; v2::SALT_LEN],
        nonce: &V2Nonce,
        envelope: &Envelope,
        plaintext: &[u8],
    ) -> Result<Chunks, LegacyError> {
        let message = V2Message::seal_shared(
            &self.shared,
            salt,
            nonce,
            self.local_key_id,
            self.remote_key_id,
            envelope,
            plaintext,
        )?;
        Ok(message
            .with_key_id_encoding(self.options.key_id_encoding)
            .into_chunks())
    }

    fn seal_v2<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        envelope: &Envelope,
        plaintext: &[u8],
    ) -> Result<Chunks, LegacyError> {
        let mut salt = [0u8; v2::SALT_LEN];
        rng.fill_bytes(&mut salt);
        let nonce = V2Nonce::random(rng, self.options.nonce_length);
        self.seal_v2_with(&salt, &nonce, envelope, plaintext)
    }

    /// The key-id encoding of `chunks`, resolved with `recipient`.
    fn key_id_encoding(
        chunks: &Chunks,
        recipient: LegacyKeyId,
    ) -> Result<KeyIdEncoding, LegacyError> {
        let [_, _, _, sender_chunk, recipient_chunk] = chunks.as_slices();
        detect_key_id_encoding(sender_chunk, recipient_chunk, |id| id == recipient)
    }

    /// Opens a v2 message from `sender` to `recipient` (key ids) with `envelope`.
    fn open_v2(
        &self,
        sender: LegacyKeyId,
        recipient: LegacyKeyId,
        envelope: &Envelope,
        chunks: &Chunks,
    ) -> Result<(Opened, KeyIdEncoding), LegacyError> {
        let encoding = Self::key_id_encoding(chunks, recipient)?;
        let parts = V2Parts::parse(chunks, encoding)?;
        expect_ids(
            parts.sender_key_id,
            parts.recipient_key_id,
            sender,
            recipient,
        )?;
        Ok((parts.open_shared(&self.shared, envelope)?, encoding))
    }
}

/// The message must name the session's key ids.
fn expect_ids(
    sender: LegacyKeyId,
    recipient: LegacyKeyId,
    want_sender: LegacyKeyId,
    want_recipient: LegacyKeyId,
) -> Result<(), LegacyError> {
    if sender == want_sender && recipient == want_recipient {
        Ok(())
    } else {
        Err(LegacyError::UnknownKey)
    }
}

/// Parses the plaintext; the content type decides the payload kind.
fn received(
    opened: &Opened,
    content_type: LegacyContentType,
    version: LegacyVersion,
    key_id_encoding: KeyIdEncoding,
) -> Result<Received, LegacyError> {
    Ok(Received {
        content_type,
        payload: Payload::parse_any(content_type, &opened.plaintext)?,
        version,
        key_id_encoding,
    })
}

/// The JSON of `payload`, which must fit `content_type`
/// ([`LegacyError::InvalidPayload`] otherwise).
fn payload_json(
    content_type: LegacyContentType,
    payload: &Payload,
) -> Result<zeroize::Zeroizing<alloc::vec::Vec<u8>>, LegacyError> {
    if payload.fits(content_type) {
        Ok(payload.to_json())
    } else {
        Err(LegacyError::InvalidPayload)
    }
}

/// A 1:1 conversation between one of my key pairs and one key of a peer
/// (SPEC.md §11.9). Caches `SS = X25519(mine, theirs)`; zeroized on drop;
/// `Debug` shows the ids only.
///
/// The [module docs](self) seal and open a typed [`Payload`] (v2). The other
/// forms:
///
/// ```
/// use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
/// use letterseal_legacy::keys::LegacyKeyPair;
/// use letterseal_legacy::payload::Payload;
/// use letterseal_legacy::Opened;
/// use letterseal_legacy::session::{LegacyVersion, PeerSession, Received, SealOptions};
/// use letterseal_legacy::v2::{NonceLength, V2Nonce};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([31; 32]);
/// # let alice_id = LineId::parse("u000000000000000000000000000a11ce")?;
/// # let bob_id = LineId::parse("u00000000000000000000000000000b0b")?;
/// # let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1));
/// # let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2));
/// let at_alice = PeerSession::new(&alice, alice_id, &bob.public(), bob_id)?;
/// let at_bob = PeerSession::new(&bob, bob_id, &alice.public(), alice_id)?;
/// assert_eq!(at_alice.options(), SealOptions::default()); // 16-byte nonces, big-endian ids
///
/// // Bytes as they are (a bridge passing content through), v2.
/// let json = br#"{"text":"hi"}"#;
/// let chunks = at_alice.seal_bytes(&mut rng, LegacyContentType::TEXT, json)?;
/// let (opened, _): (Opened, _) =
///     at_bob.open_bytes(LegacyVersion::V2, LegacyContentType::TEXT, &chunks)?;
/// assert_eq!(opened.plaintext.as_slice(), json);
///
/// // v1, for old clients (binds no content type).
/// let text = Payload::Text("hi".into());
/// let chunks = at_alice.seal_v1(&mut rng, LegacyContentType::TEXT, &text)?;
/// let received: Received = at_bob.open(LegacyVersion::V1, LegacyContentType::TEXT, &chunks)?;
/// assert_eq!((received.payload, received.version), (text, LegacyVersion::V1));
///
/// // A given salt and nonce reproduce another client's bytes (never reuse them to send).
/// let nonce = V2Nonce::random(&mut rng, NonceLength::Twelve);
/// let one = at_alice.seal_bytes_with(&[7; 16], &nonce, LegacyContentType::TEXT, b"{}")?;
/// let two = at_alice.seal_bytes_with(&[7; 16], &nonce, LegacyContentType::TEXT, b"{}")?;
/// assert_eq!(one, two);
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
pub struct PeerSession {
    core: Core,
    me: LineId,
    peer: LineId,
}

impl ZeroizeOnDrop for PeerSession {}

impl PeerSession {
    /// Agrees once with the peer's key ([`LegacyError::NonContributory`] if
    /// it has small order). `my_key` may be a [`RawScalarKeyPair`] imported
    /// from a client that does not clamp.
    ///
    /// [`RawScalarKeyPair`]: super::keys::RawScalarKeyPair
    pub fn new(
        my_key: &impl LegacyPrivateKey,
        me: LineId,
        peer_key: &LegacyPublicKey,
        peer: LineId,
    ) -> Result<Self, LegacyError> {
        Ok(Self {
            core: Core {
                shared: my_key.agree(&peer_key.key)?,
                local_key_id: my_key.key_id(),
                remote_key_id: peer_key.key_id,
                options: SealOptions::default(),
            },
            me,
            peer,
        })
    }

    /// The same session sealing with `options`.
    #[must_use]
    pub fn with_options(mut self, options: SealOptions) -> Self {
        self.core.options = options;
        self
    }

    /// The options this session seals with.
    pub fn options(&self) -> SealOptions {
        self.core.options
    }

    fn outgoing(&self, content_type: LegacyContentType) -> Envelope {
        Envelope {
            to: self.peer,
            from: self.me,
            content_type,
        }
    }

    /// Seals `payload` (which must fit `content_type`) as v2: fresh salt and
    /// nonce from `rng` (SPEC.md §11.3, §11.9).
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        content_type: LegacyContentType,
        payload: &Payload,
    ) -> Result<Chunks, LegacyError> {
        let json = payload_json(content_type, payload)?;
        self.seal_bytes(rng, content_type, &json)
    }

    /// Seals a plaintext as it is, as v2 (SPEC.md §11.3).
    pub fn seal_bytes<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        content_type: LegacyContentType,
        plaintext: &[u8],
    ) -> Result<Chunks, LegacyError> {
        self.core
            .seal_v2(rng, &self.outgoing(content_type), plaintext)
    }

    /// [`PeerSession::seal_bytes`] with an explicit salt and nonce, for test
    /// vectors and reproducing other clients. A (salt, nonce) pair must never
    /// repeat in a session.
    pub fn seal_bytes_with(
        &self,
        salt: &[u8; v2::SALT_LEN],
        nonce: &V2Nonce,
        content_type: LegacyContentType,
        plaintext: &[u8],
    ) -> Result<Chunks, LegacyError> {
        self.core
            .seal_v2_with(salt, nonce, &self.outgoing(content_type), plaintext)
    }

    /// Seals `payload` as v1 (SPEC.md §11.2): a fresh 8-byte salt from `rng`.
    /// v1 binds no content type; `content_type` only checks the payload.
    pub fn seal_v1<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        content_type: LegacyContentType,
        payload: &Payload,
    ) -> Result<Chunks, LegacyError> {
        let json = payload_json(content_type, payload)?;
        let mut salt = [0u8; v1::SALT_LEN];
        rng.fill_bytes(&mut salt);
        let message = V1Message::seal_shared(
            &self.core.shared,
            &salt,
            self.core.local_key_id,
            self.core.remote_key_id,
            &json,
        );
        Ok(message
            .with_key_id_encoding(self.core.options.key_id_encoding)
            .to_chunks())
    }

    /// Opens a message from the peer and parses its payload (SPEC.md §11.9;
    /// the checks and their order are in the [module documentation](self)).
    pub fn open(
        &self,
        version: LegacyVersion,
        content_type: LegacyContentType,
        chunks: &Chunks,
    ) -> Result<Received, LegacyError> {
        let (opened, encoding) = self.open_bytes(version, content_type, chunks)?;
        received(&opened, content_type, version, encoding)
    }

    /// [`PeerSession::open`] without parsing: the plaintext as it is.
    pub fn open_bytes(
        &self,
        version: LegacyVersion,
        content_type: LegacyContentType,
        chunks: &Chunks,
    ) -> Result<(Opened, KeyIdEncoding), LegacyError> {
        let (mine, theirs) = (self.core.local_key_id, self.core.remote_key_id);
        match version {
            LegacyVersion::V2 => {
                let incoming = Envelope {
                    to: self.me,
                    from: self.peer,
                    content_type,
                };
                self.core.open_v2(theirs, mine, &incoming, chunks)
            }
            LegacyVersion::V1 => {
                let encoding = Core::key_id_encoding(chunks, mine)?;
                let message = V1Message::from_chunks_with(chunks, encoding)?;
                expect_ids(
                    message.sender_key_id(),
                    message.recipient_key_id(),
                    theirs,
                    mine,
                )?;
                Ok((message.open_shared(&self.core.shared)?, encoding))
            }
        }
    }
}

impl fmt::Debug for PeerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerSession")
            .field("me", &self.me)
            .field("my_key_id", &self.core.local_key_id)
            .field("peer", &self.peer)
            .field("peer_key_id", &self.core.remote_key_id)
            .field("options", &self.core.options)
            .finish_non_exhaustive()
    }
}

/// My messages to a group (SPEC.md §11.4, §11.9): one of my key pairs and
/// the group public key with its group key id. Caches
/// `SS_g = X25519(mine, groupPublic)`; also opens my own group messages (the
/// same `SS_g`). Zeroized on drop; `Debug` shows the ids only.
///
/// ```
/// use letterseal_legacy::group::{
///     GroupKey, SharedGroupKey, UnwrappedGroupKey, WeakKeyPolicy, wrap_group_key,
/// };
/// use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
/// use letterseal_legacy::keys::LegacyKeyPair;
/// use letterseal_legacy::payload::Payload;
/// use letterseal_legacy::Opened;
/// use letterseal_legacy::session::{GroupMemberSession, GroupSenderSession};
/// use letterseal_legacy::v2::{NonceLength, V2Nonce};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([33; 32]);
/// # let group = LineId::parse("c0123456789abcdef0123456789abcdef")?;
/// # let alice_id = LineId::parse("u000000000000000000000000000a11ce")?;
/// # let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1));
/// # let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2));
/// # let key = GroupKey::generate(&mut rng);
/// # let record = SharedGroupKey {
/// #     group_key_id: LegacyKeyId::new(77),
/// #     creator_key_id: alice.key_id(),
/// #     receiver_key_id: bob.key_id(),
/// #     wrap: wrap_group_key(alice.secret_key(), &bob.public_key(), &key)?,
/// # };
/// // bob unwrapped the group key from the server's record (see `legacy::group`).
/// let unwrapped: UnwrappedGroupKey = record.open(&[bob], &alice.public(), &WeakKeyPolicy::WARN)?;
///
/// // alice sends to the group; she can read her own messages back.
/// let at_alice = GroupSenderSession::new(&alice, alice_id, &unwrapped.public(), group)?;
/// let hello = Payload::Text("hello group".into());
/// let chunks = at_alice.seal(&mut rng, LegacyContentType::TEXT, &hello)?;
/// assert_eq!(at_alice.open_own(LegacyContentType::TEXT, &chunks)?.payload, hello);
/// let raw = at_alice.seal_bytes(&mut rng, LegacyContentType::TEXT, br#"{"text":"raw"}"#)?;
///
/// // bob opens alice's messages with the group key and alice's public key.
/// let from_alice = GroupMemberSession::new(
///     unwrapped.key(), unwrapped.group_key_id(), group, &alice.public(), alice_id,
/// )?;
/// assert_eq!(from_alice.open(LegacyContentType::TEXT, &chunks)?.payload, hello);
/// let (opened, _): (Opened, _) = from_alice.open_bytes(LegacyContentType::TEXT, &raw)?;
/// assert_eq!(opened.plaintext.as_slice(), br#"{"text":"raw"}"#);
///
/// // A given salt and nonce, to reproduce another client's bytes.
/// let nonce = V2Nonce::random(&mut rng, NonceLength::Sixteen);
/// let fixed = at_alice.seal_bytes_with(&[9; 16], &nonce, LegacyContentType::TEXT, b"{}")?;
/// assert_eq!(from_alice.open_bytes(LegacyContentType::TEXT, &fixed)?.0.plaintext.as_slice(), b"{}");
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
pub struct GroupSenderSession {
    core: Core,
    me: LineId,
    group: LineId,
}

impl ZeroizeOnDrop for GroupSenderSession {}

impl GroupSenderSession {
    /// Agrees once with the group public key (`group_key` carries the group
    /// key id).
    pub fn new(
        my_key: &impl LegacyPrivateKey,
        me: LineId,
        group_key: &LegacyPublicKey,
        group: LineId,
    ) -> Result<Self, LegacyError> {
        Ok(Self {
            core: Core {
                shared: my_key.agree(&group_key.key)?,
                local_key_id: my_key.key_id(),
                remote_key_id: group_key.key_id,
                options: SealOptions::default(),
            },
            me,
            group,
        })
    }

    /// The same session sealing with `options`.
    #[must_use]
    pub fn with_options(mut self, options: SealOptions) -> Self {
        self.core.options = options;
        self
    }

    fn envelope(&self, content_type: LegacyContentType) -> Envelope {
        Envelope {
            to: self.group,
            from: self.me,
            content_type,
        }
    }

    /// Seals `payload` (which must fit `content_type`) to the group.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        content_type: LegacyContentType,
        payload: &Payload,
    ) -> Result<Chunks, LegacyError> {
        let json = payload_json(content_type, payload)?;
        self.seal_bytes(rng, content_type, &json)
    }

    /// Seals a plaintext as it is to the group.
    pub fn seal_bytes<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        content_type: LegacyContentType,
        plaintext: &[u8],
    ) -> Result<Chunks, LegacyError> {
        self.core
            .seal_v2(rng, &self.envelope(content_type), plaintext)
    }

    /// [`GroupSenderSession::seal_bytes`] with an explicit salt and nonce.
    pub fn seal_bytes_with(
        &self,
        salt: &[u8; v2::SALT_LEN],
        nonce: &V2Nonce,
        content_type: LegacyContentType,
        plaintext: &[u8],
    ) -> Result<Chunks, LegacyError> {
        self.core
            .seal_v2_with(salt, nonce, &self.envelope(content_type), plaintext)
    }

    /// Opens one of my own group messages (as synced back by the server).
    pub fn open_own(
        &self,
        content_type: LegacyContentType,
        chunks: &Chunks,
    ) -> Result<Received, LegacyError> {
        let (opened, encoding) = self.core.open_v2(
            self.core.local_key_id,
            self.core.remote_key_id,
            &self.envelope(content_type),
            chunks,
        )?;
        received(&opened, content_type, LegacyVersion::V2, encoding)
    }
}

impl fmt::Debug for GroupSenderSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSenderSession")
            .field("me", &self.me)
            .field("my_key_id", &self.core.local_key_id)
            .field("group", &self.group)
            .field("group_key_id", &self.core.remote_key_id)
            .field("options", &self.core.options)
            .finish_non_exhaustive()
    }
}

/// One member's messages to a group, opened with the group key (SPEC.md
/// §11.4, §11.9). Caches `SS_g = X25519(k, pk_member)`. It cannot seal:
/// sealing with `SS_g` would forge messages "from" that member (the group
/// impersonation weakness of §11.8). Zeroized on drop; `Debug` shows the ids
/// only. See the example on [`GroupSenderSession`].
pub struct GroupMemberSession {
    core: Core,
    group: LineId,
    member: LineId,
}

impl ZeroizeOnDrop for GroupMemberSession {}

impl GroupMemberSession {
    /// Agrees once with the member's key. Check the group key's
    /// [`weaknesses`](GroupKey::weaknesses) when it was unwrapped
    /// ([`SharedGroupKey::open`](super::group::SharedGroupKey::open) does).
    pub fn new(
        group_key: &GroupKey,
        group_key_id: LegacyKeyId,
        group: LineId,
        member_key: &LegacyPublicKey,
        member: LineId,
    ) -> Result<Self, LegacyError> {
        Ok(Self {
            core: Core {
                shared: group_key.agree(&member_key.key)?,
                local_key_id: group_key_id,
                remote_key_id: member_key.key_id,
                options: SealOptions::default(),
            },
            group,
            member,
        })
    }

    /// Opens a message from the member and parses its payload (SPEC.md §11.9).
    pub fn open(
        &self,
        content_type: LegacyContentType,
        chunks: &Chunks,
    ) -> Result<Received, LegacyError> {
        let (opened, encoding) = self.open_bytes(content_type, chunks)?;
        received(&opened, content_type, LegacyVersion::V2, encoding)
    }

    /// [`GroupMemberSession::open`] without parsing: the plaintext as it is.
    pub fn open_bytes(
        &self,
        content_type: LegacyContentType,
        chunks: &Chunks,
    ) -> Result<(Opened, KeyIdEncoding), LegacyError> {
        let envelope = Envelope {
            to: self.group,
            from: self.member,
            content_type,
        };
        self.core.open_v2(
            self.core.remote_key_id,
            self.core.local_key_id,
            &envelope,
            chunks,
        )
    }
}

impl fmt::Debug for GroupMemberSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupMemberSession")
            .field("group", &self.group)
            .field("group_key_id", &self.core.local_key_id)
            .field("member", &self.member)
            .field("member_key_id", &self.core.remote_key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::{self, SharedGroupKey, WeakKeyPolicy};
    use crate::keys::{LegacyKeyPair, RawScalarKeyPair};
    use crate::media::MediaKeyMaterial;
    use crate::payload::Location;
    use alloc::vec;
    use alloc::vec::Vec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use zeroize::Zeroizing;

    const ALICE: &str = "u000000000000000000000000000a11ce";
    const BOB: &str = "u00000000000000000000000000000b0b";
    const CAROL: &str = "u000000000000000000000000000ca201";
    const GROUP: &str = "c0000000000000000000000000000f00d";

    fn id(text: &str) -> LineId {
        LineId::parse(text).unwrap()
    }

    fn pairs() -> (LegacyKeyPair, LegacyKeyPair) {
        (
            LegacyKeyPair::from_bytes(LegacyKeyId::new(2_500_001), &[1; 32]),
            LegacyKeyPair::from_bytes(LegacyKeyId::new(2_500_002), &[2; 32]),
        )
    }

    fn sessions(options: SealOptions) -> (PeerSession, PeerSession) {
        let (alice, bob) = pairs();
        (
            PeerSession::new(&alice, id(ALICE), &bob.public(), id(BOB))
                .unwrap()
                .with_options(options),
            PeerSession::new(&bob, id(BOB), &alice.public(), id(ALICE)).unwrap(),
        )
    }

    fn payloads() -> Vec<(LegacyContentType, Payload)> {
        vec![
            (LegacyContentType::TEXT, Payload::Text("hello".into())),
            (
                LegacyContentType::LOCATION,
                Payload::Location(
                    Location::new(-33.8688, 151.2093)
                        .unwrap()
                        .with_address("Sydney")
                        .with_title("Opera House"),
                ),
            ),
            (
                LegacyContentType::VIDEO,
                Payload::Media(MediaKeyMaterial::from_bytes([9; 32])),
            ),
            (
                LegacyContentType::new(7),
                Payload::Other(Zeroizing::new(br#"{"STKID":"1"}"#.to_vec())),
            ),
        ]
    }

    #[test]
    fn peer_round_trips_with_every_option() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        for nonce_length in [NonceLength::Sixteen, NonceLength::Twelve] {
            for key_id_encoding in [KeyIdEncoding::BigEndian, KeyIdEncoding::Compact] {
                let options = SealOptions {
                    nonce_length,
                    key_id_encoding,
                };
                let (at_alice, at_bob) = sessions(options);
                assert_eq!(at_alice.options(), options);
                for (content_type, payload) in payloads() {
                    let chunks = at_alice.seal(&mut rng, content_type, &payload).unwrap();
                    assert_eq!(chunks.as_slices()[2].len(), nonce_length.bytes());
                    // 2 500 001 and 2 500 002 take 4 bytes either way.
                    assert_eq!(chunks.as_slices()[3].len(), 4);
                    let got = at_bob
                        .open(LegacyVersion::V2, content_type, &chunks)
                        .unwrap();
                    assert_eq!(got.payload, payload);
                    assert_eq!(got.content_type, content_type);
                    assert_eq!(got.key_id_encoding, key_id_encoding);
                    assert_eq!(got.version, LegacyVersion::V2);
                    // v1 too (content type not bound).
                    let chunks = at_alice.seal_v1(&mut rng, content_type, &payload).unwrap();
                    let got = at_bob
                        .open(LegacyVersion::V1, content_type, &chunks)
                        .unwrap();
                    assert_eq!(got.payload, payload);
                    assert_eq!(got.version, LegacyVersion::V1);
                }
            }
        }
    }

    #[test]
    fn session_bytes_equal_the_stateless_functions() {
        let (alice, bob) = pairs();
        let (at_alice, at_bob) = sessions(SealOptions::default());
        let envelope = Envelope {
            to: id(BOB),
            from: id(ALICE),
            content_type: LegacyContentType::TEXT,
        };
        for nonce in [V2Nonce::Long([3; 16]), V2Nonce::Standard([4; 12])] {
            let by_session = at_alice
                .seal_bytes_with(&[5; 16], &nonce, LegacyContentType::TEXT, b"{}")
                .unwrap();
            let stateless =
                v2::seal_v2_with(&[5; 16], &nonce, &alice, &bob.public(), &envelope, b"{}")
                    .unwrap();
            assert_eq!(by_session, stateless);
            let (opened, _) = at_bob
                .open_bytes(LegacyVersion::V2, LegacyContentType::TEXT, &stateless)
                .unwrap();
            assert_eq!(opened.plaintext.as_slice(), b"{}");
        }
        // And the other way: a stateless v1 message opens in the session.
        let chunks =
            v1::seal_v1_with_salt(&[6; 8], &alice, &bob.public(), br#"{"text":"v1"}"#).unwrap();
        let got = at_bob
            .open(LegacyVersion::V1, LegacyContentType::TEXT, &chunks)
            .unwrap();
        assert_eq!(got.payload, Payload::Text("v1".into()));
    }

    #[test]
    fn refusals() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let (at_alice, at_bob) = sessions(SealOptions {
            key_id_encoding: KeyIdEncoding::Compact,
            ..SealOptions::default()
        });
        let text = Payload::Text("x".into());
        let chunks = at_alice
            .seal(&mut rng, LegacyContentType::TEXT, &text)
            .unwrap();
        let good = chunks.clone().into_array();
        let with = |index: usize, chunk: Vec<u8>| {
            let mut bad = good.clone();
            bad[index] = chunk;
            at_bob.open(
                LegacyVersion::V2,
                LegacyContentType::TEXT,
                &Chunks::new(bad),
            )
        };
        // Compact key ids: typed errors.
        assert_eq!(with(3, vec![0x80]).unwrap_err(), LegacyError::Truncated);
        assert_eq!(
            with(4, vec![0x81, 0x00]).unwrap_err(),
            LegacyError::NonMinimal
        );
        assert_eq!(with(3, vec![0xff; 6]).unwrap_err(), LegacyError::TooLong);
        assert_eq!(
            with(4, vec![0x02, 0x00]).unwrap_err(),
            LegacyError::TrailingData
        );
        assert_eq!(
            with(4, vec![0xff, 0xff, 0xff, 0xff, 0x7f]).unwrap_err(),
            LegacyError::OutOfRange
        );
        // Mixed encodings.
        let sender_be = LegacyKeyId::new(2_500_001).to_be_bytes().to_vec();
        let mut mixed = good.clone();
        mixed[3] = sender_be;
        mixed[4] = vec![0x02];
        assert_eq!(
            at_bob
                .open(
                    LegacyVersion::V2,
                    LegacyContentType::TEXT,
                    &Chunks::new(mixed)
                )
                .unwrap_err(),
            LegacyError::Malformed
        );
        // Other key ids.
        let other = |id: i32| {
            LegacyKeyId::new(id)
                .encode(KeyIdEncoding::Compact)
                .as_bytes()
                .to_vec()
        };
        assert_eq!(with(4, other(7)).unwrap_err(), LegacyError::UnknownKey);
        assert_eq!(with(3, other(7)).unwrap_err(), LegacyError::UnknownKey);
        // Lengths, tampering, the AAD.
        assert_eq!(with(2, vec![0; 13]).unwrap_err(), LegacyError::Malformed);
        let mut tag = good[1].clone();
        *tag.last_mut().unwrap() ^= 1;
        assert_eq!(with(1, tag).unwrap_err(), LegacyError::DecryptionFailed);
        assert_eq!(
            at_bob
                .open(LegacyVersion::V2, LegacyContentType::LOCATION, &chunks)
                .unwrap_err(),
            LegacyError::DecryptionFailed
        );
        // The wrong version: a v2 message read as v1 has the wrong salt length.
        assert_eq!(
            at_bob
                .open(LegacyVersion::V1, LegacyContentType::TEXT, &chunks)
                .unwrap_err(),
            LegacyError::Malformed
        );
        // The sender's own message does not open at the sender (v2: the AAD).
        assert_eq!(
            at_alice
                .open(LegacyVersion::V2, LegacyContentType::TEXT, &chunks)
                .unwrap_err(),
            LegacyError::UnknownKey
        );
        // Payloads.
        assert_eq!(
            at_alice
                .seal(&mut rng, LegacyContentType::LOCATION, &text)
                .unwrap_err(),
            LegacyError::InvalidPayload
        );
        let not_json = at_alice
            .seal_bytes(&mut rng, LegacyContentType::TEXT, b"not json")
            .unwrap();
        assert_eq!(
            at_bob
                .open(LegacyVersion::V2, LegacyContentType::TEXT, &not_json)
                .unwrap_err(),
            LegacyError::InvalidPayload
        );
        let (opened, _) = at_bob
            .open_bytes(LegacyVersion::V2, LegacyContentType::TEXT, &not_json)
            .unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"not json");
    }

    #[test]
    fn v1_reflection_still_opens() {
        // §11.8: a session does not fix v1's missing direction binding.
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let (at_alice, _) = sessions(SealOptions::default());
        let text = Payload::Text("pay 5".into());
        let [salt, c, mac, s, r] = at_alice
            .seal_v1(&mut rng, LegacyContentType::TEXT, &text)
            .unwrap()
            .into_array();
        let reflected = Chunks::new([salt, c, mac, r, s]);
        let got = at_alice
            .open(LegacyVersion::V1, LegacyContentType::TEXT, &reflected)
            .unwrap();
        assert_eq!(got.payload, text);
    }

    #[test]
    fn raw_scalar_keys_interoperate() {
        // A key exported from a client that does not clamp: the peer seals to
        // its (unclamped) public key with ordinary X25519.
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(5), &[0x13; 32]);
        let (alice, _) = pairs();
        let at_raw = PeerSession::new(&raw, id(BOB), &alice.public(), id(ALICE)).unwrap();
        let at_alice = PeerSession::new(&alice, id(ALICE), &raw.public(), id(BOB)).unwrap();
        let text = Payload::Text("raw".into());
        for (from, to) in [(&at_alice, &at_raw), (&at_raw, &at_alice)] {
            let chunks = from.seal(&mut rng, LegacyContentType::TEXT, &text).unwrap();
            let got = to
                .open(LegacyVersion::V2, LegacyContentType::TEXT, &chunks)
                .unwrap();
            assert_eq!(got.payload, text);
        }
        // The clamped reading of the same bytes is another key.
        let clamped = LegacyKeyPair::from_bytes(LegacyKeyId::new(5), &[0x13; 32]);
        assert_ne!(clamped.public_key(), raw.public_key());
    }

    #[test]
    fn groups() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let (alice, bob) = pairs();
        let carol = LegacyKeyPair::from_bytes(LegacyKeyId::new(3), &[3; 32]);
        let key = GroupKey::generate(&mut rng);
        let group_key_id = LegacyKeyId::new(77);
        let record = SharedGroupKey {
            group_key_id,
            creator_key_id: alice.key_id(),
            receiver_key_id: bob.key_id(),
            wrap: group::wrap_group_key(alice.secret_key(), &bob.public_key(), &key).unwrap(),
        };
        let at_bob = record
            .open(&[bob], &alice.public(), &WeakKeyPolicy::STRICT)
            .unwrap();
        let alice_sends = GroupSenderSession::new(&alice, id(ALICE), &at_bob.public(), id(GROUP))
            .unwrap()
            .with_options(SealOptions {
                key_id_encoding: KeyIdEncoding::Compact,
                nonce_length: NonceLength::Twelve,
            });
        let from_alice = GroupMemberSession::new(
            at_bob.key(),
            group_key_id,
            id(GROUP),
            &alice.public(),
            id(ALICE),
        )
        .unwrap();
        for (content_type, payload) in payloads() {
            let chunks = alice_sends.seal(&mut rng, content_type, &payload).unwrap();
            let got = from_alice.open(content_type, &chunks).unwrap();
            assert_eq!(got.payload, payload);
            assert_eq!(got.key_id_encoding, KeyIdEncoding::Compact);
            assert_eq!(
                alice_sends.open_own(content_type, &chunks).unwrap().payload,
                payload
            );
            // The stateless opener reads big-endian chunks only.
            let be = V2Message::from_chunks_with(&chunks, KeyIdEncoding::Compact)
                .unwrap()
                .with_key_id_encoding(KeyIdEncoding::BigEndian)
                .into_chunks();
            let opened = group::open_group(
                at_bob.key(),
                group_key_id,
                &alice.public_key(),
                &Envelope {
                    to: id(GROUP),
                    from: id(ALICE),
                    content_type,
                },
                &be,
            )
            .unwrap();
            assert_eq!(opened.plaintext.as_slice(), payload.to_json().as_slice());
        }
        // Carol's messages do not open as Alice's, nor with the wrong group id.
        let carol_sends =
            GroupSenderSession::new(&carol, id(CAROL), &at_bob.public(), id(GROUP)).unwrap();
        let text = Payload::Text("c".into());
        let chunks = carol_sends
            .seal(&mut rng, LegacyContentType::TEXT, &text)
            .unwrap();
        assert_eq!(
            from_alice
                .open(LegacyContentType::TEXT, &chunks)
                .unwrap_err(),
            LegacyError::UnknownKey
        );
        let wrong_group = GroupMemberSession::new(
            at_bob.key(),
            group_key_id,
            id("c0000000000000000000000000000beef"),
            &carol.public(),
            id(CAROL),
        )
        .unwrap();
        assert_eq!(
            wrong_group
                .open(LegacyContentType::TEXT, &chunks)
                .unwrap_err(),
            LegacyError::DecryptionFailed
        );
        let from_carol = GroupMemberSession::new(
            at_bob.key(),
            group_key_id,
            id(GROUP),
            &carol.public(),
            id(CAROL),
        )
        .unwrap();
        assert_eq!(
            from_carol
                .open(LegacyContentType::TEXT, &chunks)
                .unwrap()
                .payload,
            text
        );
    }

    #[test]
    fn small_order_peers_are_refused() {
        let (alice, _) = pairs();
        let zero = LegacyPublicKey {
            key_id: LegacyKeyId::new(9),
            key: crate::keys::X25519PublicKey::from_bytes([0; 32]),
        };
        assert_eq!(
            PeerSession::new(&alice, id(ALICE), &zero, id(BOB)).unwrap_err(),
            LegacyError::NonContributory
        );
        assert_eq!(
            GroupSenderSession::new(&alice, id(ALICE), &zero, id(GROUP)).unwrap_err(),
            LegacyError::NonContributory
        );
        let key = GroupKey::from_random(&[8; 32]);
        assert_eq!(
            GroupMemberSession::new(&key, LegacyKeyId::new(1), id(GROUP), &zero, id(BOB))
                .unwrap_err(),
            LegacyError::NonContributory
        );
    }

    #[test]
    fn debug_prints_no_secret() {
        let (alice, bob) = pairs();
        let peer = PeerSession::new(&alice, id(ALICE), &bob.public(), id(BOB)).unwrap();
        let key = GroupKey::from_random(&[0xcd; 32]);
        let sender = GroupSenderSession::new(
            &alice,
            id(ALICE),
            &key.public(LegacyKeyId::new(1)),
            id(GROUP),
        )
        .unwrap();
        let member =
            GroupMemberSession::new(&key, LegacyKeyId::new(1), id(GROUP), &bob.public(), id(BOB))
                .unwrap();
        let shared = hex::encode(alice.agree(&bob.public_key()).unwrap().as_bytes());
        for text in [
            alloc::format!("{peer:?}"),
            alloc::format!("{sender:?}"),
            alloc::format!("{member:?}"),
        ] {
            assert!(!text.contains(&shared[..16]), "{text}");
            assert!(!text.contains("cdcd"), "{text}");
            assert!(
                text.contains("2500001") || text.contains("GroupMember"),
                "{text}"
            );
        }
    }
}
