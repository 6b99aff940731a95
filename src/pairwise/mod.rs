//! LS3 pairwise sessions (SPEC.md §7): the LS3 ratchet between two devices.
//!
//! A session starts from the peer's verified bundle with a hybrid agreement
//! (X25519 and ML-KEM-768), then ratchets: every message advances a chain
//! (forward secrecy), every change of speaking direction is a
//! Diffie-Hellman step and every few turns an ML-KEM step (post-compromise
//! security, also against a quantum adversary). It keeps the properties of
//! the first stage: keys bind both devices' ids, identity keys and sealing
//! keys (no unknown key share), own messages are refused (no reflection),
//! replays, reordering and drops are detected and reported, salts are hedged
//! and a key commitment is checked before decryption; a failed open changes
//! nothing.
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::pairwise::{ContentType, OpenError, Session};
//! use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy};
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let device = |name: &str, rng: &mut _| {
//!     let mut keys = DeviceKeys::generate(rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
//!     let bundle = keys.add_sealing_key(rng, now, 30 * 86_400);
//!     let verified = bundle.verify(&keys.address().clone().into(), &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap();
//!     (keys, verified)
//! };
//! let (alice, alice_bundle) = device("alice", &mut rng);
//! let (mut bob, bob_bundle) = device("bob", &mut rng);
//!
//! // Either side can start at once; no handshake: the first seal starts the session.
//! let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
//! let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
//!
//! let sealed = at_alice.seal(&alice, &mut rng, now, ContentType::Text, b"hi Bob", b"chat 42").unwrap();
//! let opened = at_bob.open(&mut bob, now, &sealed, b"chat 42").unwrap();
//! assert_eq!(opened.plaintext.as_slice(), b"hi Bob");
//! assert!(opened.started_session);
//!
//! // A replay is refused, and so is the message reflected back to Alice.
//! assert_eq!(at_bob.open(&mut bob, now, &sealed, b"chat 42").unwrap_err(), OpenError::Replay { counter: 0 });
//! let mut alice = alice;
//! assert_eq!(at_alice.open(&mut alice, now, &sealed, b"chat 42").unwrap_err(), OpenError::Reflected);
//!
//! // Bob's reply is a Diffie-Hellman step.
//! let reply = at_bob.seal(&bob, &mut rng, now, ContentType::Text, b"hi Alice", b"chat 42").unwrap();
//! assert_eq!(at_alice.open(&mut alice, now, &reply, b"chat 42").unwrap().plaintext.as_slice(), b"hi Alice");
//! ```

mod header;
#[cfg(feature = "hazmat")]
#[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
pub mod kdf;
#[cfg(not(feature = "hazmat"))]
#[allow(unreachable_pub, reason = "public with the `hazmat` feature")]
mod kdf;
#[cfg(test)]
mod limits_tests;
mod persist;
#[cfg(test)]
mod pq_tests;
mod ratchet;
mod session;

/// Re-exported from [`crate::message`], their home (shared with groups and attachments).
pub use crate::message::{
    APPLICATION_BASE, COMMITMENT_LEN, Chain, ContentType, Delivery, ReplayWindow, SALT_LEN,
    WINDOW_SIZE, WindowError,
};
pub use header::{
    FIXED_FIELDS_LEN, FLAG_INIT, FLAG_KEM_STEP, FLAG_ONE_TIME, Header, InitFields, KIND_PAIRWISE,
    KemStepFields, MIN_HEADER_LEN, SESSION_ID_LEN, SessionId, VERSION,
};
pub use ratchet::RatchetPolicy;
pub use session::{
    EXPIRY_SKEW_SECONDS, MAX_SEEN_SESSIONS, MAX_STATES, OpenError, Opened, OpenedInto,
    SESSION_BLOB_VERSION, SealError, Session, SessionError, plaintext_len,
};

/// Bytes a sealed message adds to its plaintext at least: the smallest header and the tag.
pub const OVERHEAD: usize = MIN_HEADER_LEN + crate::aead::TAG_LEN;
