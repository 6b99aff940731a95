//! The cases. Each function is `#[inline(never)]` so that its name appears in
//! every valgrind stack trace it causes.
//!
//! Pattern of a case:
//! 1. compute the expected result with nothing marked;
//! 2. `ct::secret` the secret inputs (copies carry the mark: memcheck tracks
//!    definedness through moves and copies);
//! 3. run exactly one crate operation;
//! 4. `ct::public` its final public result (ciphertext, derived key handed to
//!    the caller, accept/reject decision) and compare with the expected one.
//!
//! Results that are public because they depend only on public inputs (e.g. a
//! KDF's `Ok`, which depends only on lengths) are *not* declassified: if one of
//! them turned out to depend on a secret, the harness's own branch on it would
//! be reported.
//!
//! Secrets the crate only lends by reference (a `SharedSecret`, the sealing
//! key inside `DeviceKeys` or `LegacyKeyPair`) are marked in place; the epoch
//! secret of `Group::propose` is marked by the RNG that produces it.

use letterseal::aead::{self, AeadKey, AeadNonce, TAG_LEN};
use letterseal::attachment::{
    AttachmentOpener, AttachmentSealer, Binding, ContentDigest, FileDescriptor, FileKey,
    RandomAccess, open_into,
};
use letterseal::device::DeviceKeys;
use letterseal::group::{
    CONFIRMATION_LEN, Distribution, EpochSecret, GracePolicy, Group, GroupId, NodeSecret,
    Transcript, sender_chain, tree_leaf,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::kdf::{Prk, derive_labeled};
use letterseal::keys::{
    IdentityPublicKey, IdentitySecretKey, KeyError, SMALL_ORDER_U, SealingPublicKey,
    SealingSecretKey,
};
use letterseal::keys::{KemDecapsulationKey, SharedSecret};
use letterseal::labels;
use letterseal_legacy::chunks::Chunks;
use letterseal_legacy::group::{
    GroupKey, open_group, seal_group_with, unwrap_group_key, wrap_group_key,
};
use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
use letterseal_legacy::keys::LegacyKeyPair;
use letterseal_legacy::media::{MediaKeyMaterial, open_media, seal_media};
use letterseal_legacy::v1::{open_v1, seal_v1_with_salt};
use letterseal_legacy::v2::{Envelope, V2Nonce, open_v2, seal_v2_with};
use letterseal_legacy::{LegacyError, Opened as LegacyOpened};
use letterseal::message::keys::{ChainKey, MessageKeys, MessageSecret};
use letterseal::pairwise::kdf::{EpochKeys, InitialSecrets, RootKey, initial_keys};
use letterseal::pairwise::{
    ContentType, OpenError, Opened as SessionOpened, RatchetPolicy, SALT_LEN, Session,
};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::safety_number::SafetyNumber;
use letterseal::time::Timestamp;
use std::collections::BTreeMap;

use crate::ct;
use crate::{Case, Kind};

type R = Result<(), String>;

macro_rules! case {
    ($kind:ident, $name:literal, $f:path) => {
        Case {
            name: $name,
            kind: Kind::$kind,
            run: $f,
        }
    };
}

/// Every case, in the order they run.
pub static ALL: &[Case] = &[
    // §3.1 labelled derivation
    case!(
        Check,
        "kdf::derive_labeled (secret ikm)",
        kdf_derive_labeled
    ),
    case!(
        Check,
        "kdf::Prk::extract + Prk::expand_labeled (secret ikm, 200-byte output)",
        kdf_prk_expand_labeled
    ),
    // §3.3 AEAD
    case!(
        Check,
        "aead::seal (secret key, secret plaintext)",
        aead_seal
    ),
    case!(
        Check,
        "aead::AeadKey::prepare + PreparedKey::seal_in_place_detached (secret key, secret plaintext)",
        aead_prepared_seal
    ),
    case!(
        Check,
        "aead::open_in_place_detached, valid tag (secret key; decision declassified)",
        aead_open_valid
    ),
    case!(
        Check,
        "aead::open_in_place_detached, forged tag (secret key; decision declassified)",
        aead_open_forged
    ),
    case!(
        Check,
        "aead::PreparedKey::open_in_place_detached, valid tag (secret key)",
        aead_prepared_open_valid
    ),
    // §7.4-7.6 the ratchet's key schedule
    case!(
        Check,
        "message::keys::ChainKey::step (secret chain key): chain step and message secret",
        pairwise_chain_step
    ),
    case!(
        Check,
        "message::keys::MessageSecret::message_keys (secret message secret)",
        pairwise_message_keys
    ),
    case!(
        Check,
        "message::keys::MessageSecret::hedged_salt (secret message secret, randomness, associated data, plaintext)",
        pairwise_hedged_salt
    ),
    case!(
        Check,
        "message::keys::MessageKeys::commitment_matches (both sides secret; bool declassified)",
        pairwise_commitment_matches
    ),
    case!(
        Check,
        "pairwise::kdf::RootKey::step, Diffie-Hellman step (secret root key, secret X25519 result)",
        pairwise_root_step
    ),
    case!(
        Check,
        "pairwise::kdf::RootKey::step, KEM step (secret root key, X25519 result and KEM secret)",
        pairwise_root_step_kem
    ),
    case!(
        Check,
        "pairwise::kdf::initial_keys: the hybrid start's combine (secret dh1, dh2, dh3, ML-KEM secret)",
        pairwise_initial_keys
    ),
    // §3.6, §7.5-7.6 ML-KEM-768
    case!(
        Check,
        "keys::KemEncapsulationKey::encapsulate_with (secret randomness m)",
        kem_encapsulate
    ),
    case!(
        Check,
        "a KEM step's decapsulation and combine: libcrux mlkem768::decapsulate (secret dk: s and z) + RootKey::step, valid and implicitly rejected ciphertext",
        kem_step_decapsulate_combine
    ),
    // §7.5-7.7 whole pairwise sessions (beyond the brief: the state machine around the above)
    case!(
        Check,
        "pairwise::Session::seal, a start (secret local sealing key, secret plaintext)",
        session_seal
    ),
    case!(
        Check,
        "pairwise::Session::seal, a sending step with a KEM step (secret ratchet secret, encapsulation and salt randomness, plaintext)",
        session_seal_step
    ),
    case!(
        Check,
        "pairwise::Session::open, a start (secret local sealing key and one-time key; decisions)",
        session_open
    ),
    // §8.3 epoch confirmation, §8.8 group sender chains
    case!(
        Check,
        "group::EpochSecret::confirmation (secret epoch secret)",
        group_confirmation
    ),
    case!(
        Check,
        "group::EpochSecret::confirms (secret epoch secret, both confirmations secret; bool declassified)",
        group_confirms
    ),
    case!(
        Check,
        "group::sender_chain (secret tree leaf)",
        group_sender_chain
    ),
    case!(
        Check,
        "group::tree_leaf (secret epoch secret, 5 members, leaf 3: three tree_child expansions)",
        group_tree_leaf
    ),
    // §8.4-8.9 whole group operations (beyond the brief)
    case!(
        Check,
        "group::Group::propose (secret epoch secret from the RNG: confirmation, wraps)",
        group_propose
    ),
    case!(
        Check,
        "group::Group::process (secret member sealing key: wrap channel, confirmation; decisions)",
        group_process
    ),
    case!(
        Check,
        "group::Group::seal (secret epoch secret, secret plaintext)",
        group_seal
    ),
    case!(
        Check,
        "group::Group::open (secret epoch secret; decisions)",
        group_open
    ),
    // §6, §4.3 comparisons
    case!(
        Check,
        "safety_number::SafetyNumber::matches_scanned (secret scanned value; bool declassified)",
        safety_number_matches_scanned
    ),
    case!(
        Check,
        "keys::SealingPublicKey::has_small_order (secret-marked key; bool declassified)",
        sealing_has_small_order
    ),
    // §3.2, §4.2 Ed25519 identity keys (beyond the brief: signing uses the long-term secret)
    case!(
        Check,
        "keys::IdentitySecretKey::from_seed + public_key + sign_labeled (secret seed)",
        identity_sign
    ),
    // §3.4, §4.4 X25519
    case!(
        Check,
        "x25519_dalek::x25519 (secret scalar)",
        x25519_primitive
    ),
    case!(
        Check,
        "x25519_dalek::StaticSecret::diffie_hellman + SharedSecret::was_contributory (secret scalar; bool declassified)",
        x25519_dalek_dh_contributory
    ),
    case!(
        Check,
        "x25519_dalek::PublicKey::from(&StaticSecret) (secret scalar, basepoint)",
        x25519_dalek_public_key
    ),
    case!(
        Check,
        "keys::SealingSecretKey::public_key (secret scalar)",
        sealing_public_key
    ),
    case!(
        Check,
        "keys::SealingSecretKey::agree (secret scalar; wrapper branch on was_contributory is a decision)",
        sealing_agree
    ),
    // §9 attachments
    case!(
        Check,
        "attachment::AttachmentSealer::with_key + update + finish (secret file key, secret plaintext)",
        attachment_sealer
    ),
    case!(
        Check,
        "attachment::AttachmentOpener::new + update + finish (secret file key; decisions declassified)",
        attachment_opener
    ),
    case!(
        Check,
        "attachment::RandomAccess::new + open_chunk (secret file key; decisions declassified)",
        attachment_random_access
    ),
    case!(
        Check,
        "attachment::AttachmentSealer::new_hedged_with_randomness + update_into + finish_into (secret randomness, secret plaintext)",
        attachment_hedged_sealer
    ),
    case!(
        Check,
        "attachment::open_into (VerifiedOpener; secret file key; decisions declassified)",
        attachment_open_into
    ),
    case!(
        Check,
        "attachment::RandomAccess::open_chunk_into + open_chunk_in_place (secret file key)",
        attachment_random_access_into
    ),
    // §11 legacy
    case!(
        Check,
        "legacy::v1::seal_v1_with_salt (secret sender key, secret plaintext)",
        legacy_v1_seal
    ),
    case!(
        Check,
        "legacy::v1::open_v1, valid message (secret recipient key; MAC decision and PKCS#7 length)",
        legacy_v1_open
    ),
    case!(
        Check,
        "legacy::v2::open_v2, valid message, 12- and 16-byte nonce (secret recipient key; decision)",
        legacy_v2_open
    ),
    case!(
        Check,
        "legacy::group::wrap_group_key (secret creator key, secret group key)",
        legacy_group_wrap
    ),
    case!(
        Check,
        "legacy::group::unwrap_group_key, valid wrap (secret member key; unauthenticated CBC + PKCS#7)",
        legacy_group_unwrap
    ),
    case!(
        Check,
        "legacy::group::open_group, valid message (secret group key; decision)",
        legacy_group_open
    ),
    case!(
        Check,
        "legacy::media::seal_media (secret key material, secret plaintext)",
        legacy_media_seal
    ),
    case!(
        Check,
        "legacy::media::open_media, valid blob (secret key material; HMAC decision)",
        legacy_media_open
    ),
    // Must be flagged.
    case!(
        Control,
        "control: early-exit byte comparison of secret data",
        control_early_exit_compare
    ),
    case!(
        Control,
        "control: table lookup indexed by a secret byte",
        control_secret_index
    ),
    // API probes outside the protocol operations.
    case!(
        Probe,
        "probe: attachment::FileKey == (derived PartialEq)",
        probe_file_key_eq
    ),
];

// ---------------------------------------------------------------------------
// Fixtures

/// Deterministic, irregular bytes (no RNG: the check must be reproducible).
fn bytes<const N: usize>(seed: u8) -> [u8; N] {
    core::array::from_fn(|i| {
        (i as u8)
            .wrapping_mul(0x9d)
            .wrapping_add(seed)
            .rotate_left(3)
            ^ seed
    })
}

fn vec_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(0x3b).wrapping_add(seed) ^ ((i >> 8) as u8))
        .collect()
}

fn check(ok: bool, what: &str) -> R {
    if ok { Ok(()) } else { Err(what.to_owned()) }
}

fn address(user: &str, device: u32) -> DeviceAddress {
    DeviceAddress::new(
        UserId::new(user).expect("valid user id"),
        DeviceId::new(device),
    )
}

fn identity(seed: u8) -> IdentityPublicKey {
    IdentitySecretKey::from_seed(&[seed; 32]).public_key()
}

/// Declassifies a legacy open's result: the `Result` itself (discriminant,
/// `Vec` header, key ids) and the plaintext bytes.
fn declassify_legacy(
    mut r: Result<LegacyOpened, LegacyError>,
) -> Result<LegacyOpened, LegacyError> {
    ct::public(&mut r);
    if let Ok(opened) = &r {
        ct::public_in_place(opened.plaintext.as_slice());
    }
    r
}

// ---------------------------------------------------------------------------
// §3.1 KDF

#[inline(never)]
fn kdf_derive_labeled() -> R {
    let salt = bytes::<16>(1);
    let ikm = bytes::<32>(2);
    let context = b"ct-check context";
    let mut expected = [0u8; 76];
    derive_labeled(
        &salt,
        &ikm,
        labels::kdf::MESSAGE_KEYS,
        context,
        &mut expected,
    )
    .map_err(|e| format!("{e:?}"))?;

    let mut secret_ikm = ikm;
    ct::secret(&mut secret_ikm);
    let mut out = [0u8; 76];
    let r = derive_labeled(
        &salt,
        &secret_ikm,
        labels::kdf::MESSAGE_KEYS,
        context,
        &mut out,
    );
    ct::public(&mut out);
    check(
        r.is_ok() && out == expected,
        "derive_labeled output differs",
    )
}

#[inline(never)]
fn kdf_prk_expand_labeled() -> R {
    let ikm = bytes::<32>(3);
    let mut expected = [0u8; 200];
    Prk::extract(b"", &ikm)
        .expand_labeled(labels::kdf::ATTACHMENT, b"ctx", &mut expected)
        .map_err(|e| format!("{e:?}"))?;

    let mut secret_ikm = ikm;
    ct::secret(&mut secret_ikm);
    let prk = Prk::extract(b"", &secret_ikm);
    let mut out = [0u8; 200];
    let r = prk.expand_labeled(labels::kdf::ATTACHMENT, b"ctx", &mut out);
    ct::public(&mut out);
    check(
        r.is_ok() && out == expected,
        "expand_labeled output differs",
    )
}

// ---------------------------------------------------------------------------
// §3.3 AEAD

const AAD: &[u8] = b"associated data, public";

fn aead_fixture() -> ([u8; 32], AeadNonce, Vec<u8>) {
    // 100 bytes: six full blocks and a partial one.
    (
        bytes::<32>(10),
        AeadNonce::from_bytes(bytes::<12>(11)),
        vec_bytes(100, 12),
    )
}

#[inline(never)]
fn aead_seal() -> R {
    let (key, nonce, plaintext) = aead_fixture();
    let expected = aead::seal(&AeadKey::from_bytes(key), &nonce, AAD, &plaintext);

    let mut secret_key = key;
    let mut secret_plaintext = plaintext;
    ct::secret(&mut secret_key);
    ct::secret(secret_plaintext.as_mut_slice());
    let key = AeadKey::from_bytes(secret_key);
    let mut sealed = aead::seal(&key, &nonce, AAD, &secret_plaintext);
    ct::public(sealed.as_mut_slice());
    check(sealed == expected, "sealed bytes differ")
}

#[inline(never)]
fn aead_prepared_seal() -> R {
    let (key, nonce, plaintext) = aead_fixture();
    let mut expected = plaintext.clone();
    let expected_tag =
        AeadKey::from_bytes(key)
            .prepare()
            .seal_in_place_detached(&nonce, AAD, &mut expected);

    let mut secret_key = key;
    let mut buffer = plaintext;
    ct::secret(&mut secret_key);
    ct::secret(buffer.as_mut_slice());
    let prepared = AeadKey::from_bytes(secret_key).prepare();
    let mut tag = prepared.seal_in_place_detached(&nonce, AAD, &mut buffer);
    ct::public(buffer.as_mut_slice());
    ct::public(&mut tag);
    check(
        buffer == expected && tag == expected_tag,
        "sealed bytes differ",
    )
}

/// `(key, nonce, ciphertext, tag, plaintext)` of a valid message.
fn aead_sealed() -> ([u8; 32], AeadNonce, Vec<u8>, [u8; TAG_LEN], Vec<u8>) {
    let (key, nonce, plaintext) = aead_fixture();
    let mut ciphertext = plaintext.clone();
    let tag = aead::seal_in_place_detached(&AeadKey::from_bytes(key), &nonce, AAD, &mut ciphertext);
    (key, nonce, ciphertext, tag, plaintext)
}

#[inline(never)]
fn aead_open_valid() -> R {
    let (key, nonce, ciphertext, tag, plaintext) = aead_sealed();
    let mut secret_key = key;
    ct::secret(&mut secret_key);
    let key = AeadKey::from_bytes(secret_key);
    // Ciphertext, tag, nonce and AAD are public (they come off the wire).
    let mut buffer = ciphertext;
    let r = ct::declassify(aead::open_in_place_detached(
        &key,
        &nonce,
        AAD,
        &mut buffer,
        &tag,
    ));
    ct::public(buffer.as_mut_slice());
    check(
        r.is_ok() && buffer == plaintext,
        "valid message did not open",
    )
}

#[inline(never)]
fn aead_open_forged() -> R {
    let (key, nonce, ciphertext, mut tag, _) = aead_sealed();
    tag[7] ^= 0x20;
    let mut secret_key = key;
    ct::secret(&mut secret_key);
    let key = AeadKey::from_bytes(secret_key);
    let mut buffer = ciphertext;
    let r = ct::declassify(aead::open_in_place_detached(
        &key,
        &nonce,
        AAD,
        &mut buffer,
        &tag,
    ));
    // On failure the buffer is zeroized (defined zeros): nothing to declassify.
    check(
        r.is_err() && buffer.iter().all(|&b| b == 0),
        "forged tag accepted or buffer kept",
    )
}

#[inline(never)]
fn aead_prepared_open_valid() -> R {
    let (key, nonce, ciphertext, tag, plaintext) = aead_sealed();
    let mut secret_key = key;
    ct::secret(&mut secret_key);
    let prepared = AeadKey::from_bytes(secret_key).prepare();
    let mut buffer = ciphertext;
    let r = ct::declassify(prepared.open_in_place_detached(&nonce, AAD, &mut buffer, &tag));
    ct::public(buffer.as_mut_slice());
    check(
        r.is_ok() && buffer == plaintext,
        "valid message did not open",
    )
}

// ---------------------------------------------------------------------------
// §7.4-7.6 the ratchet's key schedule

fn declassify_epoch_keys(keys: &EpochKeys) {
    ct::public_in_place(keys.root.as_bytes());
    ct::public_in_place(keys.message.as_bytes());
    ct::public_in_place(keys.control.as_bytes());
}

fn same_epoch_keys(a: &EpochKeys, b: &EpochKeys) -> bool {
    a.root.as_bytes() == b.root.as_bytes()
        && a.message.as_bytes() == b.message.as_bytes()
        && a.control.as_bytes() == b.control.as_bytes()
}

#[inline(never)]
fn pairwise_chain_step() -> R {
    let chain = bytes::<32>(20);
    let (expected_secret, expected_next) = ChainKey::from_bytes(chain).step();

    let mut secret_chain = chain;
    ct::secret(&mut secret_chain);
    let (secret, next) = ChainKey::from_bytes(secret_chain).step();
    ct::public_in_place(secret.as_bytes());
    ct::public_in_place(next.as_bytes());
    check(
        secret.as_bytes() == expected_secret.as_bytes()
            && next.as_bytes() == expected_next.as_bytes(),
        "chain step differs",
    )
}

fn declassify_message_keys(keys: &mut MessageKeys) {
    ct::public_in_place(keys.aead_key.as_bytes());
    ct::public(&mut keys.nonce);
    ct::public(&mut keys.commitment);
}

fn same_message_keys(a: &MessageKeys, b: &MessageKeys) -> bool {
    a.aead_key.as_bytes() == b.aead_key.as_bytes()
        && a.nonce == b.nonce
        && a.commitment == b.commitment
}

#[inline(never)]
fn pairwise_message_keys() -> R {
    let secret = bytes::<32>(30);
    let salt = bytes::<SALT_LEN>(31);
    let expected = MessageSecret::from_bytes(secret).message_keys(&salt);

    let mut secret_bytes = secret;
    ct::secret(&mut secret_bytes);
    let mut keys = MessageSecret::from_bytes(secret_bytes).message_keys(&salt);
    declassify_message_keys(&mut keys);
    check(same_message_keys(&keys, &expected), "message keys differ")
}

#[inline(never)]
fn pairwise_hedged_salt() -> R {
    let secret = bytes::<32>(36);
    // The bound header fields are public; the caller's associated data and
    // the plaintext are treated as secret (the POLYVAL digest runs over them).
    let bound = vec_bytes(65, 37);
    let ad = vec_bytes(20, 38);
    let plaintext = vec_bytes(100, 39);
    let expected = MessageSecret::from_bytes(secret).hedged_salt(
        &mut TestRng::new(9),
        &bound,
        &ad,
        &plaintext,
    );

    let mut secret_bytes = secret;
    let mut secret_ad = ad;
    let mut secret_plaintext = plaintext;
    ct::secret(&mut secret_bytes);
    ct::secret(secret_ad.as_mut_slice());
    ct::secret(secret_plaintext.as_mut_slice());
    let mut rng = TestRng::new(9);
    rng.mark_32_byte_draws = true;
    let mut salt = MessageSecret::from_bytes(secret_bytes).hedged_salt(
        &mut rng,
        &bound,
        &secret_ad,
        &secret_plaintext,
    );
    ct::public(&mut salt);
    check(salt == expected, "hedged salt differs")
}

#[inline(never)]
fn pairwise_commitment_matches() -> R {
    let mut keys = MessageSecret::from_bytes(bytes::<32>(33)).message_keys(&bytes::<SALT_LEN>(34));
    let mut received = keys.commitment;
    ct::secret(&mut keys.commitment);
    ct::secret(&mut received);
    let equal = ct::declassify(keys.commitment_matches(&received));
    received[17] ^= 0x01;
    let one_bit_off = ct::declassify(keys.commitment_matches(&received));
    received[17] ^= 0x01;
    received[0] ^= 0x80;
    let first_byte_off = ct::declassify(keys.commitment_matches(&received));
    check(
        equal && !one_bit_off && !first_byte_off,
        "commitment_matches gave a wrong answer",
    )
}

#[inline(never)]
fn pairwise_root_step() -> R {
    let root = bytes::<32>(40);
    let dh = bytes::<32>(41);
    let expected = RootKey::from_bytes(root).step(&dh, None);

    let (mut secret_root, mut secret_dh) = (root, dh);
    ct::secret(&mut secret_root);
    ct::secret(&mut secret_dh);
    let keys = RootKey::from_bytes(secret_root).step(&secret_dh, None);
    declassify_epoch_keys(&keys);
    check(same_epoch_keys(&keys, &expected), "root step differs")
}

#[inline(never)]
fn pairwise_root_step_kem() -> R {
    let root = bytes::<32>(42);
    let dh = bytes::<32>(43);
    let kem = bytes::<32>(44);
    let expected = RootKey::from_bytes(root).step(&dh, Some(&kem));

    let (mut secret_root, mut secret_dh, mut secret_kem) = (root, dh, kem);
    ct::secret(&mut secret_root);
    ct::secret(&mut secret_dh);
    ct::secret(&mut secret_kem);
    let keys = RootKey::from_bytes(secret_root).step(&secret_dh, Some(&secret_kem));
    declassify_epoch_keys(&keys);
    check(
        same_epoch_keys(&keys, &expected),
        "root step with a KEM secret differs",
    )
}

/// Three X25519 results (`SharedSecret` has no public constructor, so they
/// come from real agreements).
fn agreements() -> Result<[SharedSecret; 3], String> {
    let err = |e: KeyError| format!("{e:?}");
    let initiator = SealingSecretKey::from_bytes(&bytes::<32>(50));
    let ephemeral = SealingSecretKey::from_bytes(&bytes::<32>(51));
    let responder = SealingSecretKey::from_bytes(&bytes::<32>(52)).public_key();
    let one_time = SealingSecretKey::from_bytes(&bytes::<32>(53)).public_key();
    Ok([
        initiator.agree(&responder).map_err(err)?,
        ephemeral.agree(&responder).map_err(err)?,
        ephemeral.agree(&one_time).map_err(err)?,
    ])
}

#[inline(never)]
fn pairwise_initial_keys() -> R {
    let [dh1, dh2, dh3] = agreements()?;
    let kem_key = KemDecapsulationKey::from_seed(&bytes::<64>(54)).encapsulation_key();
    let (_, kem) = kem_key.encapsulate_with(&bytes::<32>(55));
    // party(A) ‖ party(B) ‖ E_A ‖ OTK_B ‖ KEM key id ‖ ct: public.
    let context = vec_bytes(2 * 70 + 32 + 32 + 16 + 1088, 56);
    let secrets = InitialSecrets {
        static_static: &dh1,
        ephemeral_static: &dh2,
        one_time: Some(&dh3),
        kem: &kem,
    };
    let expected = initial_keys(&secrets, &context);

    // The secrets are only lent out by reference: mark them in place.
    ct::secret_in_place(dh1.as_bytes());
    ct::secret_in_place(dh2.as_bytes());
    ct::secret_in_place(dh3.as_bytes());
    ct::secret_in_place(kem.as_bytes());
    let keys = initial_keys(&secrets, &context);
    declassify_epoch_keys(&keys);
    check(same_epoch_keys(&keys, &expected), "initial keys differ")
}

// ---------------------------------------------------------------------------
// §3.6, §7.5-7.6 ML-KEM-768

#[inline(never)]
fn kem_encapsulate() -> R {
    let key = KemDecapsulationKey::from_seed(&bytes::<64>(60)).encapsulation_key();
    let m = bytes::<32>(61);
    let (expected_ct, expected_ss) = key.encapsulate_with(&m);

    let mut secret_m = m;
    ct::secret(&mut secret_m);
    let (ciphertext, shared) = key.encapsulate_with(&secret_m);
    ct::public_in_place(ciphertext.as_bytes().as_slice());
    ct::public_in_place(shared.as_bytes());
    check(
        ciphertext.as_bytes() == expected_ct.as_bytes()
            && shared.as_bytes() == expected_ss.as_bytes(),
        "encapsulation differs",
    )
}

/// The byte ranges of an ML-KEM-768 decapsulation key `dk_PKE ‖ ek ‖ H(ek) ‖
/// z` (FIPS 203 §7.1) that are secret: `dk_PKE` (the vector `s`) and `z`.
const DK_PKE: core::ops::RangeTo<usize> = ..1152;
const DK_Z: core::ops::RangeFrom<usize> = 2368..;

#[inline(never)]
fn kem_step_decapsulate_combine() -> R {
    use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext};

    // letterseal keeps its expanded key private, so the primitive it wraps
    // (`KemDecapsulationKey::decapsulate` is this call) runs on a key whose
    // secret parts can be marked in place; the combine is the crate's own.
    let (private, public) = mlkem768::generate_key_pair(bytes::<64>(70)).into_parts();
    let (valid, _) = mlkem768::encapsulate(&public, bytes::<32>(71));
    let mut other = *valid.as_slice();
    other[100] ^= 0x01;
    let rejected = MlKem768Ciphertext::from(&other);
    let root = bytes::<32>(72);
    let dh = bytes::<32>(73);
    fn combine(
        key: &mlkem768::MlKem768PrivateKey,
        ciphertext: &MlKem768Ciphertext,
        root: [u8; 32],
        dh: &[u8; 32],
    ) -> EpochKeys {
        let shared = mlkem768::decapsulate(key, ciphertext);
        RootKey::from_bytes(root).step(dh, Some(&shared))
    }
    let expected = [
        combine(&private, &valid, root, &dh),
        combine(&private, &rejected, root, &dh),
    ];
    if same_epoch_keys(&expected[0], &expected[1]) {
        return Err("implicit rejection gave the valid secret".into());
    }

    let mut key = private;
    ct::secret(&mut key[DK_PKE]);
    ct::secret(&mut key[DK_Z]);
    let (mut secret_root, mut secret_dh) = (root, dh);
    ct::secret(&mut secret_root);
    ct::secret(&mut secret_dh);
    let mut ok = true;
    for (ciphertext, want) in [&valid, &rejected].into_iter().zip(&expected) {
        let keys = combine(&key, ciphertext, secret_root, &secret_dh);
        declassify_epoch_keys(&keys);
        ok &= same_epoch_keys(&keys, want);
    }
    check(ok, "KEM step keys differ")
}

// ---------------------------------------------------------------------------
// §7.5 whole sessions, §8 whole groups

/// A deterministic RNG (splitmix64) with the traits letterseal takes. It
/// optionally marks every 32-byte draw secret: in `Group::propose` that is
/// the epoch secret and the fresh bytes of each wrap's hedged salt (§3.5).
struct TestRng {
    state: u64,
    mark_32_byte_draws: bool,
}

impl TestRng {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            mark_32_byte_draws: false,
        }
    }
}

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let word = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(word.get(..chunk.len()).unwrap_or_default());
        }
        if self.mark_32_byte_draws && dst.len() == 32 {
            ct::secret(dst);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

const T0: u64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

/// A device with one sealing key and its verified bundle (nothing marked).
fn test_device(rng: &mut TestRng, user: &str) -> Result<(DeviceKeys, VerifiedBundle), String> {
    let mut keys = DeviceKeys::generate(rng, address(user, 1));
    let bundle = keys
        .add_sealing_key(rng, now(), 30 * 86_400)
        .verify(
            &keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .map_err(|e| format!("{e:?}"))?;
    Ok((keys, bundle))
}

/// Marks a device's current sealing secret key in place.
fn mark_sealing_key(device: &DeviceKeys) -> R {
    let id = device.current_sealing_key_id().ok_or("no sealing key")?;
    let key = device.sealing_key(&id).ok_or("no sealing key")?;
    assert_eq!(
        size_of::<SealingSecretKey>(),
        32,
        "SealingSecretKey is exactly the 32 secret bytes"
    );
    ct::secret_in_place(key);
    Ok(())
}

fn declassify_session_opened(r: Result<SessionOpened, OpenError>) -> Result<SessionOpened, String> {
    let mut r = r;
    ct::public(&mut r);
    let opened = r.map_err(|e| format!("{e:?}"))?;
    ct::public_in_place(opened.plaintext.as_slice());
    Ok(opened)
}

fn err(e: &dyn core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Alice starts a session with Bob: her first message (an `INIT` message).
/// With `mark`, her sealing key and the plaintext are secret.
#[inline(never)]
fn seal_start(mark: bool) -> Result<Vec<u8>, String> {
    let mut rng = TestRng::new(1);
    let (alice, _) = test_device(&mut rng, "alice")?;
    let (_, bob_bundle) = test_device(&mut rng, "bob")?;
    let mut at_alice = Session::new(&alice, &bob_bundle).map_err(|e| err(&e))?;
    let mut plaintext = vec_bytes(61, 100);
    if mark {
        mark_sealing_key(&alice)?;
        ct::secret(plaintext.as_mut_slice());
    }
    let r = at_alice.seal(&alice, &mut rng, now(), ContentType::Text, &plaintext, AAD);
    let mut sealed = r.map_err(|e| err(&e))?;
    if mark {
        ct::public(sealed.as_mut_slice());
    }
    Ok(sealed)
}

#[inline(never)]
fn session_seal() -> R {
    let expected = seal_start(false)?;
    let sealed = seal_start(true)?;
    check(
        sealed == expected && sealed[2] & letterseal::pairwise::FLAG_INIT != 0,
        "sealed start differs",
    )
}

/// Bob answers Alice's start: a sending step, which is a KEM step under a
/// policy of one KEM step per sending step. With `mark`, every 32-byte draw
/// from the RNG (the new ratchet secret, the encapsulation's `m`, the hedged
/// salt's `r`) and the plaintext are secret.
#[inline(never)]
fn seal_step(mark: bool) -> Result<Vec<u8>, String> {
    let mut rng = TestRng::new(7);
    let (alice, alice_bundle) = test_device(&mut rng, "alice")?;
    let (mut bob, bob_bundle) = test_device(&mut rng, "bob")?;
    let policy = RatchetPolicy {
        kem_every_steps: 1,
        ..RatchetPolicy::default()
    };
    let mut at_alice = Session::new(&alice, &bob_bundle)
        .map_err(|e| err(&e))?
        .with_policy(policy)
        .map_err(|e| err(&e))?;
    let mut at_bob = Session::new(&bob, &alice_bundle)
        .map_err(|e| err(&e))?
        .with_policy(policy)
        .map_err(|e| err(&e))?;
    let start = at_alice
        .seal(&alice, &mut rng, now(), ContentType::Text, b"start", AAD)
        .map_err(|e| err(&e))?;
    at_bob
        .open(&mut bob, now(), &start, AAD)
        .map_err(|e| err(&e))?;
    let mut plaintext = vec_bytes(61, 104);
    if mark {
        ct::secret(plaintext.as_mut_slice());
        rng.mark_32_byte_draws = true;
    }
    let r = at_bob.seal(&bob, &mut rng, now(), ContentType::Text, &plaintext, AAD);
    let mut sealed = r.map_err(|e| err(&e))?;
    if mark {
        ct::public(sealed.as_mut_slice());
    }
    Ok(sealed)
}

#[inline(never)]
fn session_seal_step() -> R {
    let expected = seal_step(false)?;
    let sealed = seal_step(true)?;
    check(
        sealed == expected && sealed[2] & letterseal::pairwise::FLAG_KEM_STEP != 0,
        "sealed KEM step differs",
    )
}

#[inline(never)]
fn session_open() -> R {
    let mut rng = TestRng::new(2);
    let (alice, alice_bundle) = test_device(&mut rng, "alice")?;
    let (mut bob, bob_bundle) = test_device(&mut rng, "bob")?;
    let one_time = bob
        .add_one_time_keys(&mut rng, 1, now(), 86_400)
        .pop()
        .ok_or("no one-time key")?
        .verify(
            &bob.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .map_err(|e| err(&e))?;
    let mut at_alice = Session::new(&alice, &bob_bundle)
        .map_err(|e| err(&e))?
        .with_one_time_key(&one_time)
        .map_err(|e| err(&e))?;
    let mut at_bob = Session::new(&bob, &alice_bundle).map_err(|e| err(&e))?;
    let plaintext = vec_bytes(61, 101);
    let sealed = at_alice
        .seal(&alice, &mut rng, now(), ContentType::Text, &plaintext, AAD)
        .map_err(|e| err(&e))?;

    mark_sealing_key(&bob)?;
    ct::secret_in_place(
        bob.one_time_key(&one_time.key_id())
            .ok_or("no one-time key")?,
    );
    let opened = declassify_session_opened(at_bob.open(&mut bob, now(), &sealed, AAD))?;
    check(
        opened.plaintext.as_slice() == plaintext && opened.counter == 0 && opened.started_session,
        "session open differs",
    )
}

struct GroupPair {
    rng: TestRng,
    alice: DeviceKeys,
    bob: DeviceKeys,
    alice_group: Group,
    bob_group: Group,
    /// Bob's sessions: one, with Alice (the distributor).
    bob_sessions: BTreeMap<DeviceAddress, Session>,
    /// Alice's upload, declassified (it is public: it goes to the server).
    upload: Distribution,
    /// The view the server fans out to Bob.
    view: Distribution,
}

/// Two members; Alice proposes epoch 1 (the epoch secret is marked secret if
/// `secret_epoch`) and commits it, the server verifies the upload; Bob has
/// not processed his view yet.
fn group_pair(seed: u64, secret_epoch: bool) -> Result<GroupPair, String> {
    let err = |e: &dyn core::fmt::Debug| format!("{e:?}");
    let mut rng = TestRng::new(seed);
    let (alice, alice_bundle) = test_device(&mut rng, "alice")?;
    let (bob, bob_bundle) = test_device(&mut rng, "bob")?;
    let id = GroupId::new(b"ct-check group").map_err(|e| err(&e))?;
    let mut alice_group = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
    let bob_group = Group::new(id, bob.address().clone(), GracePolicy::default());
    let mut alice_sessions = BTreeMap::new();
    rng.mark_32_byte_draws = secret_epoch;
    let proposed = alice_group.propose(
        &mut rng,
        &alice,
        &[alice_bundle.clone(), bob_bundle],
        None,
        &mut alice_sessions,
        now(),
    );
    rng.mark_32_byte_draws = false;
    let proposal = proposed.map_err(|e| err(&e))?;
    // Declassify the whole upload (confirmation and wraps are secret-derived).
    let mut wire = proposal.upload.encode();
    ct::public(wire.as_mut_slice());
    let upload = Distribution::decode(&wire).map_err(|e| err(&e))?;
    alice_group.commit(now()).map_err(|e| err(&e))?;
    let verified = upload
        .verify_for_server(None, alice.address())
        .map_err(|e| err(&e))?;
    let view = verified.view_for(bob.address()).ok_or("no view for bob")?;
    let bob_session = Session::new(&bob, &alice_bundle).map_err(|e| err(&e))?;
    let bob_sessions = BTreeMap::from([(alice.address().clone(), bob_session)]);
    Ok(GroupPair {
        rng,
        alice,
        bob,
        alice_group,
        bob_group,
        bob_sessions,
        upload,
        view,
    })
}

#[inline(never)]
fn group_propose() -> R {
    // The case is the proposal inside group_pair (secret epoch secret);
    // here only check that it is the expected one.
    let reference = group_pair(3, false)?;
    let marked = group_pair(3, true)?;
    check(
        marked.upload.encode() == reference.upload.encode(),
        "proposal differs",
    )
}

#[inline(never)]
fn group_process() -> R {
    let mut g = group_pair(4, false)?;
    mark_sealing_key(&g.bob)?;
    let r = g
        .bob_group
        .process(&mut g.bob, &g.view, &mut g.bob_sessions, now());
    ct::declassify(r).map_err(|e| format!("{e:?}"))?;
    check(
        g.bob_group.current_epoch() == Some(1),
        "epoch not installed",
    )
}

#[inline(never)]
fn group_seal() -> R {
    let mut g = group_pair(5, true)?;
    let plaintext = vec_bytes(70, 102);
    g.bob_group
        .process(&mut g.bob, &g.view, &mut g.bob_sessions, now())
        .map_err(|e| format!("{e:?}"))?;

    let mut secret_plaintext = plaintext.clone();
    ct::secret(secret_plaintext.as_mut_slice());
    let r = g.alice_group.seal(
        &mut g.rng,
        &g.alice,
        ContentType::Text,
        &secret_plaintext,
        AAD,
    );
    let mut sealed = r.map_err(|e| format!("{e:?}"))?;
    ct::public(sealed.as_mut_slice());

    let opened = g
        .bob_group
        .open(&sealed, AAD, now())
        .map_err(|e| format!("{e:?}"))?;
    check(
        opened.plaintext.as_slice() == plaintext,
        "group round trip differs",
    )
}

#[inline(never)]
fn group_open() -> R {
    let mut g = group_pair(6, false)?;
    let plaintext = vec_bytes(70, 103);
    let sealed = g
        .alice_group
        .seal(&mut g.rng, &g.alice, ContentType::Text, &plaintext, AAD)
        .map_err(|e| format!("{e:?}"))?;
    // Bob's epoch secret is the plaintext of Alice's wrap, opened with Bob's
    // (secret) sealing key: it is secret from the start.
    mark_sealing_key(&g.bob)?;
    let processed = g
        .bob_group
        .process(&mut g.bob, &g.view, &mut g.bob_sessions, now());
    ct::declassify(processed).map_err(|e| format!("{e:?}"))?;

    let mut r = g.bob_group.open(&sealed, AAD, now());
    ct::public(&mut r);
    let opened = r.map_err(|e| format!("{e:?}"))?;
    ct::public_in_place(opened.plaintext.as_slice());
    check(
        opened.plaintext.as_slice() == plaintext,
        "group open differs",
    )
}

// ---------------------------------------------------------------------------
// §8.3, §8.8 group

fn group_fixture() -> (Transcript, DeviceAddress, IdentityPublicKey) {
    (
        Transcript::from_bytes(bytes::<32>(40)),
        address("carol", 3),
        identity(3),
    )
}

#[inline(never)]
fn group_confirmation() -> R {
    let core = vec_bytes(150, 45);
    let secret = bytes::<32>(46);
    let expected = EpochSecret::from_bytes(secret).confirmation(&core);

    let mut secret_bytes = secret;
    ct::secret(&mut secret_bytes);
    let epoch_secret = EpochSecret::from_bytes(secret_bytes);
    let mut confirmation = epoch_secret.confirmation(&core);
    ct::public(&mut confirmation);
    check(confirmation == expected, "confirmation differs")
}

#[inline(never)]
fn group_confirms() -> R {
    let core = vec_bytes(150, 47);
    let secret = bytes::<32>(48);
    let mut received: [u8; CONFIRMATION_LEN] = EpochSecret::from_bytes(secret).confirmation(&core);

    let mut secret_bytes = secret;
    ct::secret(&mut secret_bytes);
    let epoch_secret = EpochSecret::from_bytes(secret_bytes);
    // The received confirmation is public in the protocol (it is in the
    // core); marking it too shows the comparison does not branch on it.
    ct::secret(&mut received);
    let equal = ct::declassify(epoch_secret.confirms(&core, &received));
    received[17] ^= 0x01;
    let one_bit_off = ct::declassify(epoch_secret.confirms(&core, &received));
    received[17] ^= 0x01;
    received[0] ^= 0x80;
    let first_byte_off = ct::declassify(epoch_secret.confirms(&core, &received));
    check(
        equal && !one_bit_off && !first_byte_off,
        "confirms gave a wrong answer",
    )
}

/// A tree leaf holding `secret`: in a one-member group the only leaf is the
/// root, i.e. the epoch secret itself.
fn leaf_from(secret: [u8; 32]) -> NodeSecret {
    tree_leaf(&EpochSecret::from_bytes(secret), 1, 0).expect("a one-member tree is its root")
}

#[inline(never)]
fn group_sender_chain() -> R {
    let (transcript, sender, sender_id) = group_fixture();
    let secret = bytes::<32>(41);
    let expected = sender_chain(
        &leaf_from(secret),
        &transcript,
        &sender,
        sender_id.as_bytes(),
    );

    let mut secret_bytes = secret;
    ct::secret(&mut secret_bytes);
    let leaf = leaf_from(secret_bytes);
    let chain = sender_chain(&leaf, &transcript, &sender, sender_id.as_bytes());
    ct::public_in_place(chain.as_bytes());
    check(
        chain.as_bytes() == expected.as_bytes(),
        "sender chain differs",
    )
}

#[inline(never)]
fn group_tree_leaf() -> R {
    let secret = bytes::<32>(42);
    let expected = tree_leaf(&EpochSecret::from_bytes(secret), 5, 3).expect("leaf 3 of 5");

    let mut secret_bytes = secret;
    ct::secret(&mut secret_bytes);
    let leaf = tree_leaf(&EpochSecret::from_bytes(secret_bytes), 5, 3).expect("leaf 3 of 5");
    let mut leaf_bytes = *leaf.as_bytes();
    ct::public(&mut leaf_bytes);
    check(&leaf_bytes == expected.as_bytes(), "tree leaf differs")
}

// ---------------------------------------------------------------------------
// §6, §4.3 comparisons

#[inline(never)]
fn safety_number_matches_scanned() -> R {
    let alice = (UserId::new("alice").expect("id"), identity(1));
    let bob = (UserId::new("bob").expect("id"), identity(2));
    let number = SafetyNumber::new((&alice.0, &alice.1), (&bob.0, &bob.1));
    let mut scanned = number.to_bytes();
    ct::secret(&mut scanned);
    let equal = ct::declassify(number.matches_scanned(&scanned));
    scanned[40] ^= 0x04;
    let differs = ct::declassify(number.matches_scanned(&scanned));
    scanned[40] ^= 0x04;
    // A shorter scan: the length is public, the comparison is not run.
    let short = ct::declassify(number.matches_scanned(&scanned[..64]));
    check(
        equal && !differs && !short,
        "matches_scanned gave a wrong answer",
    )
}

/// Keys of every kind `has_small_order` distinguishes: an ordinary key, each
/// small-order value, non-canonical encodings of small-order and ordinary
/// values, and one with the top bit set.
fn small_order_inputs() -> Vec<[u8; 32]> {
    let mut inputs = vec![
        SealingSecretKey::from_bytes(&bytes::<32>(50))
            .public_key()
            .to_bytes(),
    ];
    inputs.extend(SMALL_ORDER_U);
    let mut p_plus_1 = [0xffu8; 32];
    p_plus_1[0] = 0xee;
    p_plus_1[31] = 0x7f;
    let mut p_plus_9 = p_plus_1;
    p_plus_9[0] = 0xf6;
    let mut top_bit = inputs[0];
    top_bit[31] |= 0x80;
    inputs.extend([p_plus_1, p_plus_9, top_bit, [0xff; 32]]);
    inputs
}

#[inline(never)]
fn sealing_has_small_order() -> R {
    for input in small_order_inputs() {
        let expected = SealingPublicKey::from_bytes(input).has_small_order();
        let mut secret_input = input;
        ct::secret(&mut secret_input);
        let key = SealingPublicKey::from_bytes(secret_input);
        let got = ct::declassify(key.has_small_order());
        if got != expected {
            return Err(format!("has_small_order differs for {input:02x?}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// §3.2 Ed25519

#[inline(never)]
fn identity_sign() -> R {
    let seed = bytes::<32>(55);
    let content = vec_bytes(90, 56);
    let reference = IdentitySecretKey::from_seed(&seed);
    let expected_public = reference.public_key();
    let expected_signature = reference
        .sign_labeled(labels::sig::GROUP_MESSAGE, &content)
        .to_bytes();

    let mut secret_seed = seed;
    ct::secret(&mut secret_seed);
    let key = IdentitySecretKey::from_seed(&secret_seed);
    let mut public = key.public_key().to_bytes();
    let mut signature = key
        .sign_labeled(labels::sig::GROUP_MESSAGE, &content)
        .to_bytes();
    ct::public(&mut public);
    ct::public(&mut signature);
    check(
        public == expected_public.to_bytes() && signature == expected_signature,
        "public key or signature differs",
    )
}

// ---------------------------------------------------------------------------
// §3.4, §4.4 X25519

fn peer_public() -> [u8; 32] {
    SealingSecretKey::from_bytes(&bytes::<32>(61))
        .public_key()
        .to_bytes()
}

#[inline(never)]
fn x25519_primitive() -> R {
    let scalar = bytes::<32>(60);
    let u = peer_public();
    let expected = x25519_dalek::x25519(scalar, u);

    let mut secret_scalar = scalar;
    ct::secret(&mut secret_scalar);
    let mut out = x25519_dalek::x25519(secret_scalar, u);
    ct::public(&mut out);
    check(out == expected, "x25519 output differs")
}

#[inline(never)]
fn x25519_dalek_dh_contributory() -> R {
    let scalar = bytes::<32>(62);
    for (u, contributory) in [(peer_public(), true), (SMALL_ORDER_U[2], false)] {
        let expected = x25519_dalek::StaticSecret::from(scalar)
            .diffie_hellman(&x25519_dalek::PublicKey::from(u))
            .to_bytes();
        let mut secret_scalar = scalar;
        ct::secret(&mut secret_scalar);
        let secret = x25519_dalek::StaticSecret::from(secret_scalar);
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(u));
        // The one bit the wrapper branches on, declassified before any branch.
        let was_contributory = ct::declassify(shared.was_contributory());
        let mut out = shared.to_bytes();
        ct::public(&mut out);
        if out != expected || was_contributory != contributory {
            return Err(format!("diffie_hellman differs for peer {u:02x?}"));
        }
    }
    Ok(())
}

#[inline(never)]
fn x25519_dalek_public_key() -> R {
    let scalar = bytes::<32>(63);
    let expected =
        x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(scalar)).to_bytes();
    let mut secret_scalar = scalar;
    ct::secret(&mut secret_scalar);
    let mut public =
        x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(secret_scalar)).to_bytes();
    ct::public(&mut public);
    check(public == expected, "public key differs")
}

#[inline(never)]
fn sealing_public_key() -> R {
    let scalar = bytes::<32>(64);
    let expected = SealingSecretKey::from_bytes(&scalar).public_key();
    let mut secret_scalar = scalar;
    ct::secret(&mut secret_scalar);
    let key = SealingSecretKey::from_bytes(&secret_scalar);
    let mut public = key.public_key();
    ct::public(&mut public);
    check(public == expected, "public key differs")
}

#[inline(never)]
fn sealing_agree() -> R {
    let scalar = bytes::<32>(65);
    let peers = [
        SealingPublicKey::from_bytes(peer_public()),
        SealingPublicKey::from_bytes(SMALL_ORDER_U[3]),
    ];
    for peer in peers {
        let expected = SealingSecretKey::from_bytes(&scalar)
            .agree(&peer)
            .map(|s| *s.as_bytes());
        let mut secret_scalar = scalar;
        ct::secret(&mut secret_scalar);
        let key = SealingSecretKey::from_bytes(&secret_scalar);
        // `agree` branches on `was_contributory()` internally (suppressed as
        // a public decision, see supp/decisions.supp); the `Result`
        // discriminant is written after that branch and is not declassified.
        let got = match key.agree(&peer) {
            Ok(shared) => {
                ct::public_in_place(shared.as_bytes());
                Ok(*shared.as_bytes())
            }
            Err(e) => Err(e),
        };
        if got != expected {
            return Err(format!("agree differs for peer {peer:?}"));
        }
        if peer.has_small_order() != (got == Err(KeyError::NonContributory)) {
            return Err("agree did not refuse exactly the small-order peer".into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// §9 attachments

const CHUNK: u32 = 64;
const MEDIA: &str = "image/jpeg";

/// Seals with pieces that straddle chunk boundaries: 200 bytes in 64-byte
/// chunks (3 full + 8-byte last chunk).
fn seal_attachment(
    file_key: [u8; 32],
    plaintext: &[u8],
    declassify: bool,
) -> Result<(Vec<u8>, FileDescriptor), String> {
    let err = |e| format!("{e:?}");
    let salt = bytes::<16>(71);
    let sealer = AttachmentSealer::with_key(FileKey::from_bytes(file_key), salt, CHUNK, MEDIA)
        .map_err(err)?;
    let mut sealer = sealer;
    if declassify {
        // The header carries the key commitment: public output.
        ct::public_in_place(sealer.header().as_slice());
    }
    let mut blob = sealer.header().to_vec();
    for piece in [&plaintext[..70], &plaintext[70..71], &plaintext[71..]] {
        let mut out = sealer.update(piece).map_err(err)?;
        if declassify {
            ct::public(out.as_mut_slice());
        }
        blob.extend_from_slice(&out);
    }
    let (mut last, mut descriptor) = sealer.finish().map_err(err)?;
    if declassify {
        ct::public(last.as_mut_slice());
        // The content digest of the secret plaintext is handed to the caller: public output.
        if let Binding::Content(d) = &mut descriptor.binding {
            ct::public(d);
        }
        ct::public_in_place(descriptor.file_key.as_bytes());
    }
    blob.extend_from_slice(&last);
    Ok((blob, descriptor))
}

#[inline(never)]
fn attachment_sealer() -> R {
    let file_key = bytes::<32>(70);
    let plaintext = vec_bytes(200, 72);
    let (expected_blob, expected_descriptor) = seal_attachment(file_key, &plaintext, false)?;

    let mut secret_key = file_key;
    let mut secret_plaintext = plaintext;
    ct::secret(&mut secret_key);
    ct::secret(secret_plaintext.as_mut_slice());
    let (blob, descriptor) = seal_attachment(secret_key, &secret_plaintext, true)?;
    check(blob == expected_blob, "sealed blob differs")?;
    check(
        descriptor.size == 200 && descriptor == expected_descriptor,
        "descriptor differs",
    )
}

#[inline(never)]
fn attachment_opener() -> R {
    let plaintext = vec_bytes(200, 73);
    let (blob, descriptor) = seal_attachment(bytes::<32>(74), &plaintext, false)?;
    ct::secret_in_place(descriptor.file_key.as_bytes());
    let mut opener = AttachmentOpener::new(&descriptor);
    let mut out = Vec::new();
    for piece in blob.chunks(50) {
        let r = ct::declassify(opener.update(piece));
        let opened = r.map_err(|e| format!("{e:?}"))?;
        ct::public_in_place(opened.as_slice());
        out.extend_from_slice(&opened);
    }
    let r = ct::declassify(opener.finish());
    let opened = r.map_err(|e| format!("{e:?}"))?;
    ct::public_in_place(opened.as_slice());
    out.extend_from_slice(&opened);
    check(out == plaintext, "opened plaintext differs")
}

#[inline(never)]
fn attachment_random_access() -> R {
    let plaintext = vec_bytes(200, 75);
    let (blob, descriptor) = seal_attachment(bytes::<32>(76), &plaintext, false)?;
    ct::secret_in_place(descriptor.file_key.as_bytes());
    let header = blob.get(..54).ok_or("short blob")?;
    // Not declassified: `RandomAccess` holds the (secret) stream keys. The
    // commitment check branches inside `new` (a decision, suppressed); the
    // discriminant written after that branch is public.
    let access = RandomAccess::new(&descriptor, header).map_err(|e| format!("{e:?}"))?;
    for index in [1u32, 3] {
        let range = access.chunk_range(index).ok_or("no range")?;
        let sealed = blob.get(range.clone()).ok_or("short blob")?;
        let opened =
            ct::declassify(access.open_chunk(index, sealed)).map_err(|e| format!("{e:?}"))?;
        ct::public_in_place(opened.as_slice());
        let start = index as usize * CHUNK as usize;
        let expected = plaintext
            .get(start..(start + CHUNK as usize).min(200))
            .ok_or("range")?;
        check(opened.as_slice() == expected, "random-access chunk differs")?;
    }
    Ok(())
}

#[inline(never)]
fn attachment_hedged_sealer() -> R {
    let randomness = bytes::<32>(77);
    let plaintext = vec_bytes(200, 78);
    let err = |e| format!("{e:?}");
    let seal = |randomness: &[u8; 32],
                plaintext: &[u8],
                declassify: bool|
     -> Result<(Vec<u8>, FileDescriptor), String> {
        let digest = ContentDigest::of(plaintext);
        let mut sealer =
            AttachmentSealer::new_hedged_with_randomness(randomness, &digest, CHUNK, MEDIA)
                .map_err(err)?;
        let mut blob = sealer.header().to_vec();
        let mut out = vec![0u8; sealer.update_len(plaintext.len())];
        let n = sealer.update_into(plaintext, &mut out).map_err(err)?;
        blob.extend_from_slice(&out[..n]);
        let mut out = vec![0u8; sealer.finish_len()];
        // The decision that the content matched its digest depends on the secret plaintext
        // only through the digest, which is handed to the caller: not declassified here, so
        // a branch on it inside the sealer would be reported.
        let (n, mut descriptor) = sealer.finish_into(&mut out).map_err(err)?;
        blob.extend_from_slice(&out[..n]);
        if declassify {
            ct::public(blob.as_mut_slice());
            if let Binding::Content(d) = &mut descriptor.binding {
                ct::public(d);
            }
            ct::public_in_place(descriptor.file_key.as_bytes());
        }
        Ok((blob, descriptor))
    };
    let (expected_blob, expected_descriptor) = seal(&randomness, &plaintext, false)?;
    let mut secret_randomness = randomness;
    let mut secret_plaintext = plaintext;
    ct::secret(&mut secret_randomness);
    ct::secret(secret_plaintext.as_mut_slice());
    let (blob, descriptor) = seal(&secret_randomness, &secret_plaintext, true)?;
    check(blob == expected_blob, "hedged blob differs")?;
    check(
        descriptor == expected_descriptor,
        "hedged descriptor differs",
    )
}

#[inline(never)]
fn attachment_open_into() -> R {
    let plaintext = vec_bytes(200, 79);
    let (blob, descriptor) = seal_attachment(bytes::<32>(80), &plaintext, false)?;
    ct::secret_in_place(descriptor.file_key.as_bytes());
    let mut out = vec![0u8; 200];
    let r = ct::declassify(open_into(&descriptor, &blob, &mut out));
    r.map_err(|e| format!("{e:?}"))?;
    ct::public(out.as_mut_slice());
    check(out == plaintext, "opened plaintext differs")
}

#[inline(never)]
fn attachment_random_access_into() -> R {
    let plaintext = vec_bytes(200, 81);
    let (blob, descriptor) = seal_attachment(bytes::<32>(82), &plaintext, false)?;
    ct::secret_in_place(descriptor.file_key.as_bytes());
    let header = blob.get(..54).ok_or("short blob")?;
    let access = RandomAccess::new(&descriptor, header).map_err(|e| format!("{e:?}"))?;
    for index in [0u32, 3] {
        let range = access.chunk_range(index).ok_or("no range")?;
        let sealed = blob.get(range.clone()).ok_or("short blob")?;
        let start = index as usize * CHUNK as usize;
        let expected = plaintext
            .get(start..(start + CHUNK as usize).min(200))
            .ok_or("range")?;
        let mut out = vec![0u8; expected.len()];
        ct::declassify(access.open_chunk_into(index, sealed, &mut out))
            .map_err(|e| format!("{e:?}"))?;
        ct::public(out.as_mut_slice());
        check(out == expected, "open_chunk_into differs")?;
        let mut in_place = sealed.to_vec();
        let opened = ct::declassify(
            access
                .open_chunk_in_place(index, &mut in_place)
                .map(|p| p.len()),
        )
        .map_err(|e| format!("{e:?}"))?;
        let opened = in_place.get_mut(..opened).ok_or("length")?;
        ct::public(opened);
        check(&*opened == expected, "open_chunk_in_place differs")?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// §11 legacy

fn legacy_parties() -> (LegacyKeyPair, [LegacyKeyPair; 1]) {
    (
        LegacyKeyPair::from_bytes(LegacyKeyId::new(100), &bytes::<32>(80)),
        [LegacyKeyPair::from_bytes(
            LegacyKeyId::new(200),
            &bytes::<32>(81),
        )],
    )
}

/// Marks the secret key inside a key pair. The pair's public key was computed
/// before, with nothing marked, so it stays public (as it is).
fn mark_pair_secret(pair: &LegacyKeyPair) {
    assert_eq!(
        size_of::<SealingSecretKey>(),
        32,
        "SealingSecretKey is exactly the 32 secret bytes"
    );
    ct::secret_in_place(pair.secret_key());
}

#[inline(never)]
fn legacy_v1_seal() -> R {
    let (alice, bob) = legacy_parties();
    let plaintext = vec_bytes(37, 82);
    let salt = bytes::<8>(83);
    let expected = seal_v1_with_salt(&salt, &alice, &bob[0].public(), &plaintext)
        .map_err(|e| format!("{e:?}"))?;

    mark_pair_secret(&alice);
    let mut secret_plaintext = plaintext;
    ct::secret(secret_plaintext.as_mut_slice());
    let chunks = seal_v1_with_salt(&salt, &alice, &bob[0].public(), &secret_plaintext)
        .map_err(|e| format!("{e:?}"))?;
    for chunk in chunks.as_slices() {
        ct::public_in_place(chunk);
    }
    check(chunks == expected, "v1 chunks differ")
}

#[inline(never)]
fn legacy_v1_open() -> R {
    let (alice, bob) = legacy_parties();
    // 37 bytes: the last block carries 11 bytes of PKCS#7 padding.
    let plaintext = vec_bytes(37, 84);
    let chunks = seal_v1_with_salt(&bytes::<8>(85), &alice, &bob[0].public(), &plaintext)
        .map_err(|e| format!("{e:?}"))?;
    mark_pair_secret(&bob[0]);
    let opened = declassify_legacy(open_v1(&bob, &alice.public_key(), &chunks))
        .map_err(|e| format!("{e:?}"))?;
    check(
        opened.plaintext.as_slice() == plaintext,
        "v1 plaintext differs",
    )
}

#[inline(never)]
fn legacy_v2_open() -> R {
    let (alice, bob) = legacy_parties();
    let envelope = Envelope {
        to: LineId::parse("u0123456789abcdef0123456789abcdef").map_err(|e| format!("{e:?}"))?,
        from: LineId::parse("ufedcba9876543210fedcba9876543210").map_err(|e| format!("{e:?}"))?,
        content_type: LegacyContentType::TEXT,
    };
    let plaintext = vec_bytes(45, 86);
    mark_pair_secret(&bob[0]);
    for nonce in [
        V2Nonce::Standard(bytes::<12>(87)),
        V2Nonce::Long(bytes::<16>(88)),
    ] {
        // Sealed by alice, whose key is not marked.
        let chunks: Chunks = seal_v2_with(
            &bytes::<16>(89),
            &nonce,
            &alice,
            &bob[0].public(),
            &envelope,
            &plaintext,
        )
        .map_err(|e| format!("{e:?}"))?;
        let opened = declassify_legacy(open_v2(&bob, &alice.public_key(), &envelope, &chunks))
            .map_err(|e| format!("{e:?}"))?;
        check(
            opened.plaintext.as_slice() == plaintext,
            "v2 plaintext differs",
        )?;
    }
    Ok(())
}

fn legacy_envelope(to: &str) -> Result<Envelope, String> {
    Ok(Envelope {
        to: LineId::parse(to).map_err(|e| format!("{e:?}"))?,
        from: LineId::parse("ufedcba9876543210fedcba9876543210").map_err(|e| format!("{e:?}"))?,
        content_type: LegacyContentType::TEXT,
    })
}

#[inline(never)]
fn legacy_group_wrap() -> R {
    let (creator, member) = legacy_parties();
    let group_key = bytes::<32>(94);
    let expected = wrap_group_key(
        creator.secret_key(),
        &member[0].public_key(),
        &GroupKey::from_random(&group_key),
    )
    .map_err(|e| format!("{e:?}"))?;

    mark_pair_secret(&creator);
    let mut secret_group_key = group_key;
    ct::secret(&mut secret_group_key);
    let key = GroupKey::from_random(&secret_group_key);
    let wrap = wrap_group_key(creator.secret_key(), &member[0].public_key(), &key)
        .map_err(|e| format!("{e:?}"))?;
    let mut wrap_bytes = *wrap.as_bytes();
    ct::public(&mut wrap_bytes);
    check(wrap_bytes == *expected.as_bytes(), "group key wrap differs")
}

#[inline(never)]
fn legacy_group_unwrap() -> R {
    let (creator, member) = legacy_parties();
    let group_key = GroupKey::from_random(&bytes::<32>(95));
    let wrap = wrap_group_key(creator.secret_key(), &member[0].public_key(), &group_key)
        .map_err(|e| format!("{e:?}"))?;

    mark_pair_secret(&member[0]);
    let r = unwrap_group_key(member[0].secret_key(), &creator.public_key(), &wrap);
    let mut unwrapped = *ct::declassify(r).map_err(|e| format!("{e:?}"))?.to_bytes();
    ct::public(&mut unwrapped);
    check(
        unwrapped == *group_key.to_bytes(),
        "unwrapped group key differs",
    )
}

#[inline(never)]
fn legacy_group_open() -> R {
    let (sender, _) = legacy_parties();
    let group_key = GroupKey::from_random(&bytes::<32>(96));
    let group_key_id = LegacyKeyId::new(300);
    let envelope = legacy_envelope("c0123456789abcdef0123456789abcdef")?;
    let plaintext = vec_bytes(33, 97);
    let chunks = seal_group_with(
        &bytes::<16>(98),
        &V2Nonce::Standard(bytes::<12>(99)),
        &sender,
        &group_key.public(group_key_id),
        &envelope,
        &plaintext,
    )
    .map_err(|e| format!("{e:?}"))?;

    let mut secret_bytes = *group_key.to_bytes();
    ct::secret(&mut secret_bytes);
    let key = GroupKey::from_bytes(&secret_bytes);
    let opened = declassify_legacy(open_group(
        &key,
        group_key_id,
        &sender.public_key(),
        &envelope,
        &chunks,
    ))
    .map_err(|e| format!("{e:?}"))?;
    check(
        opened.plaintext.as_slice() == plaintext,
        "group plaintext differs",
    )
}

#[inline(never)]
fn legacy_media_seal() -> R {
    let km = bytes::<32>(90);
    let plaintext = vec_bytes(77, 91);
    let expected =
        seal_media(&MediaKeyMaterial::from_bytes(km), &plaintext).map_err(|e| format!("{e:?}"))?;

    let mut secret_km = km;
    let mut secret_plaintext = plaintext;
    ct::secret(&mut secret_km);
    ct::secret(secret_plaintext.as_mut_slice());
    let mut blob = seal_media(&MediaKeyMaterial::from_bytes(secret_km), &secret_plaintext)
        .map_err(|e| format!("{e:?}"))?;
    ct::public(blob.as_mut_slice());
    check(blob == expected, "media blob differs")
}

#[inline(never)]
fn legacy_media_open() -> R {
    let km = bytes::<32>(92);
    let plaintext = vec_bytes(77, 93);
    let blob =
        seal_media(&MediaKeyMaterial::from_bytes(km), &plaintext).map_err(|e| format!("{e:?}"))?;

    let mut secret_km = km;
    ct::secret(&mut secret_km);
    let km = MediaKeyMaterial::from_bytes(secret_km);
    let mut r = open_media(&km, &blob);
    ct::public(&mut r);
    let opened = r.map_err(|e| format!("{e:?}"))?;
    ct::public_in_place(opened.as_slice());
    check(opened.as_slice() == plaintext, "media plaintext differs")
}

// ---------------------------------------------------------------------------
// Controls: must be reported.

/// The classic leak: returns at the first differing byte.
#[inline(never)]
fn leaky_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for (x, y) in a.iter().zip(b) {
        if core::hint::black_box(*x) != *y {
            return false;
        }
    }
    true
}

#[inline(never)]
fn control_early_exit_compare() -> R {
    let tag = bytes::<16>(100);
    let mut secret_tag = tag;
    ct::secret(&mut secret_tag);
    let equal = ct::declassify(leaky_eq(&secret_tag, &tag));
    check(equal, "leaky_eq gave a wrong answer")
}

#[inline(never)]
fn control_secret_index() -> R {
    static TABLE: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = (i as u8).wrapping_mul(7) ^ 0x63;
            i += 1;
        }
        t
    };
    let mut secret = [0x42u8];
    ct::secret(&mut secret);
    let mut out = TABLE[core::hint::black_box(secret[0]) as usize];
    ct::public(&mut out);
    check(out == TABLE[0x42], "table lookup gave a wrong answer")
}

// ---------------------------------------------------------------------------
// Probes.

#[inline(never)]
fn probe_file_key_eq() -> R {
    let key = bytes::<32>(110);
    let mut secret_key = key;
    ct::secret(&mut secret_key);
    let equal = ct::declassify(FileKey::from_bytes(secret_key) == FileKey::from_bytes(key));
    check(equal, "FileKey == gave a wrong answer")
}
