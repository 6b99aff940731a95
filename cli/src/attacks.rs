//! The published attacks on LINE Letter Sealing, each run against the legacy
//! format (where it works, as documented) and the same scenario against LS3
//! (where it fails). Used by `letterseal demo` to print the table and by
//! `cli/tests/attacks.rs` to assert every row.

use std::collections::BTreeMap;

use letterseal::device::DeviceKeys;
use letterseal::group::{
    EpochSecret, GracePolicy, Group, GroupHeader, GroupId, VerifiedDistribution, sender_chain,
    tree_leaf,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{
    BundleContent, KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle,
};
use letterseal::time::Timestamp;
use letterseal_legacy::LegacyError;
use letterseal_legacy::chunks::Chunks;
use letterseal_legacy::group::{
    GroupKey, KNOWN_CONSTANT_GROUP_KEYS, SharedGroupKey, UnwrappedGroupKey, WeakKeyPolicy,
    open_group, seal_group, unwrap_group_key, wrap_group_key,
};
use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
use letterseal_legacy::keys::{LegacyKeyPair, LegacyPublicKey};
use letterseal_legacy::payload::Payload;
use letterseal_legacy::session::{GroupMemberSession, GroupSenderSession};
use letterseal_legacy::v1::{open_v1, seal_v1};
use letterseal_legacy::v2::{Envelope, NonceLength, open_v2, seal_v2};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// One attack, both ways.
#[derive(Debug, Clone)]
pub struct AttackRow {
    /// The attack.
    pub attack: &'static str,
    /// Where it was published.
    pub source: &'static str,
    /// Whether the attack worked against the legacy format.
    pub legacy_vulnerable: bool,
    /// What happened against legacy.
    pub legacy: String,
    /// Whether LS3 stopped it.
    pub ls3_protected: bool,
    /// What happened against LS3.
    pub ls3: String,
}

type Result<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

const T0: u64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

fn line_id(kind: char, n: u8) -> Result<LineId> {
    LineId::parse(&format!("{kind}{}", hex_digits(n))).map_err(err)
}

fn hex_digits(n: u8) -> String {
    format!("{n:02x}").repeat(16)
}

fn envelope(to: &LineId, from: &LineId) -> Envelope {
    Envelope {
        to: *to,
        from: *from,
        content_type: LegacyContentType::TEXT,
    }
}

/// An LS3 device with one verified bundle.
fn device(rng: &mut ChaCha20Rng, name: &str) -> Result<(DeviceKeys, VerifiedBundle)> {
    let address = DeviceAddress::new(UserId::new(name).map_err(err)?, DeviceId::new(1));
    let mut keys = DeviceKeys::generate(rng, address);
    let bundle = keys
        .add_sealing_key(rng, now(), 30 * 86_400)
        .verify(
            &keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .map_err(err)?;
    Ok((keys, bundle))
}

/// Every attack, in a fixed order, with a deterministic RNG.
pub fn run_all() -> Result<Vec<AttackRow>> {
    let mut rng = ChaCha20Rng::from_seed([0xa7; 32]);
    Ok(vec![
        replay(&mut rng)?,
        reorder(&mut rng)?,
        reflection(&mut rng)?,
        group_impersonation(&mut rng)?,
        removed_member(&mut rng)?,
        unknown_key_share(&mut rng)?,
        constant_group_key(&mut rng)?,
    ])
}

fn replay(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy v2: the receiver keeps no state; the same chunks open again.
    let alice = LegacyKeyPair::generate(rng, LegacyKeyId::new(1));
    let bob = LegacyKeyPair::generate(rng, LegacyKeyId::new(2));
    let env = envelope(&line_id('u', 0xb0)?, &line_id('u', 0xa0)?);
    let chunks = seal_v2(
        rng,
        NonceLength::default(),
        &alice,
        &bob.public(),
        &env,
        br#"{"text":"transfer $10"}"#,
    )
    .map_err(err)?;
    let keys = [bob];
    let first = open_v2(&keys, &alice.public_key(), &env, &chunks).is_ok();
    let again = open_v2(&keys, &alice.public_key(), &env, &chunks).is_ok();

    let (a, ab) = device(rng, "alice")?;
    let (mut b, bb) = device(rng, "bob")?;
    let mut at_a = Session::new(&a, &bb).map_err(err)?;
    let mut at_b = Session::new(&b, &ab).map_err(err)?;
    let sealed = at_a
        .seal(&a, rng, now(), ContentType::Text, b"transfer $10", b"")
        .map_err(err)?;
    at_b.open(&mut b, now(), &sealed, b"").map_err(err)?;
    let ls3 = at_b.open(&mut b, now(), &sealed, b"");
    Ok(AttackRow {
        attack: "Replay of a 1:1 message",
        source: "FOCI 2017 (v1); LINE-Break 2025 (v2)",
        legacy_vulnerable: first && again,
        legacy: "v2 message opens a second time".into(),
        ls3_protected: ls3.is_err(),
        ls3: ls3
            .err()
            .map_or("OPENED".into(), |e| format!("rejected: {}", e.name())),
    })
}

fn reorder(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy v2: receivers keep no state (a counter in the nonce, if any, is not
    // checked); any order opens unnoticed.
    let alice = LegacyKeyPair::generate(rng, LegacyKeyId::new(1));
    let bob = LegacyKeyPair::generate(rng, LegacyKeyId::new(2));
    let env = envelope(&line_id('u', 0xb1)?, &line_id('u', 0xa1)?);
    let first = seal_v2(
        rng,
        NonceLength::default(),
        &alice,
        &bob.public(),
        &env,
        br#"{"text":"yes"}"#,
    )
    .map_err(err)?;
    let second = seal_v2(
        rng,
        NonceLength::default(),
        &alice,
        &bob.public(),
        &env,
        br#"{"text":"no"}"#,
    )
    .map_err(err)?;
    let keys = [bob];
    let legacy_ok = open_v2(&keys, &alice.public_key(), &env, &second).is_ok()
        && open_v2(&keys, &alice.public_key(), &env, &first).is_ok();

    let (a, ab) = device(rng, "alice")?;
    let (mut b, bb) = device(rng, "bob")?;
    let mut at_a = Session::new(&a, &bb).map_err(err)?;
    let mut at_b = Session::new(&b, &ab).map_err(err)?;
    let m0 = at_a
        .seal(&a, rng, now(), ContentType::Text, b"yes", b"")
        .map_err(err)?;
    let m1 = at_a
        .seal(&a, rng, now(), ContentType::Text, b"no", b"")
        .map_err(err)?;
    let later = at_b.open(&mut b, now(), &m1, b"").map_err(err)?;
    let earlier = at_b.open(&mut b, now(), &m0, b"").map_err(err)?;
    Ok(AttackRow {
        attack: "Reordering (and dropping) messages",
        source: "FOCI 2017; LINE-Break 2025",
        legacy_vulnerable: legacy_ok,
        legacy: "messages 1, 0 open with no indication".into(),
        ls3_protected: later.skipped == 1 && earlier.late,
        ls3: format!(
            "detected: #1 reports {} missing, #0 arrives flagged late; beyond the skip limit: TooManySkipped",
            later.skipped
        ),
    })
}

fn reflection(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy v1: swap the unauthenticated key-id chunks and send Alice's own
    // message back to her as if Bob wrote it; SS is the same both ways.
    let alice = LegacyKeyPair::generate(rng, LegacyKeyId::new(10));
    let bob = LegacyKeyPair::generate(rng, LegacyKeyId::new(20));
    let chunks =
        seal_v1(rng, &alice, &bob.public(), br#"{"text":"I owe Bob $100"}"#).map_err(err)?;
    let [salt, c, mac, sender, recipient] = chunks.into_array();
    let reflected = Chunks::new([salt, c, mac, recipient, sender]);
    let legacy = open_v1(&[alice], &bob.public_key(), &reflected);

    let (mut a, _) = device(rng, "alice")?;
    let (_, bb) = device(rng, "bob")?;
    let mut at_a = Session::new(&a, &bb).map_err(err)?;
    let sealed = at_a
        .seal(&a, rng, now(), ContentType::Text, b"I owe Bob $100", b"")
        .map_err(err)?;
    let ls3 = at_a.open(&mut a, now(), &sealed, b"");
    Ok(AttackRow {
        attack: "Reflection: own message shown as the peer's",
        source: "LINE-Break 2025",
        legacy_vulnerable: legacy.is_ok(),
        legacy: match legacy {
            Ok(o) => format!(
                "v1 opens at Alice as from Bob ({} bytes)",
                o.plaintext.len()
            ),
            Err(e) => format!("failed: {}", e.name()),
        },
        ls3_protected: ls3.is_err(),
        ls3: ls3
            .err()
            .map_or("OPENED".into(), |e| format!("rejected: {}", e.name())),
    })
}

fn group_impersonation(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy: any member holding the group key k derives X25519(k, pk_S) for any
    // sender S and seals "from S".
    let group_id = line_id('c', 0xc0)?;
    let group_key_id = LegacyKeyId::new(900);
    let k = GroupKey::generate(rng);
    let sender = LegacyKeyPair::generate(rng, LegacyKeyId::new(31));
    let sender_id = line_id('u', 0x31)?;
    let forged = seal_group(
        rng,
        NonceLength::default(),
        &k.key_pair(sender.key_id()),
        &LegacyPublicKey {
            key_id: group_key_id,
            key: sender.public_key(),
        },
        &envelope(&group_id, &sender_id),
        br#"{"text":"S says: pay M"}"#,
    )
    .map_err(err)?;
    let legacy = open_group(
        &k,
        group_key_id,
        &sender.public_key(),
        &envelope(&group_id, &sender_id),
        &forged,
    );

    // LS3: M holds the epoch secret, derives S's chain, but can only sign as M.
    let (alice, a_b) = device(rng, "alice")?;
    let (mut bob, b_b) = device(rng, "bob")?;
    let (mut mallory, m_b) = device(rng, "mallory")?;
    let id = GroupId::new("club").map_err(err)?;
    let verified = create(rng, &alice, &[a_b.clone(), b_b, m_b], &id)?;
    let mut g_bob = join(&mut bob, &a_b, &verified, &id)?;
    let g_mallory = join(&mut mallory, &a_b, &verified, &id)?;
    let secret = member_secret(&g_mallory)?;
    let forged = forge_group_message(&g_mallory, &secret, &alice, &mallory)?;
    let ls3 = g_bob.open(&forged, b"", now());
    Ok(AttackRow {
        attack: "Group member impersonation",
        source: "Isobe & Minematsu, ESORICS 2018; LINE-Break 2025",
        legacy_vulnerable: legacy.is_ok(),
        legacy: "a member's forgery \"from S\" opens for everyone".into(),
        ls3_protected: ls3.is_err(),
        ls3: ls3
            .err()
            .map_or("OPENED".into(), |e| format!("rejected: {}", e.name())),
    })
}

/// `creator` makes epoch 1 of group `id` for `members`; the server accepts it.
fn create(
    rng: &mut ChaCha20Rng,
    creator: &DeviceKeys,
    members: &[VerifiedBundle],
    id: &GroupId,
) -> Result<VerifiedDistribution> {
    let mut group = Group::new(
        id.clone(),
        creator.address().clone(),
        GracePolicy::default(),
    );
    let proposal = group
        .propose(rng, creator, members, None, &mut BTreeMap::new(), now())
        .map_err(err)?;
    proposal
        .upload
        .verify_for_server(None, creator.address())
        .map_err(err)
}

/// `member`'s state after processing its view of `verified` over a fresh
/// session with the distributor.
fn join(
    member: &mut DeviceKeys,
    distributor: &VerifiedBundle,
    verified: &VerifiedDistribution,
    id: &GroupId,
) -> Result<Group> {
    let mut group = Group::new(id.clone(), member.address().clone(), GracePolicy::default());
    let mut sessions = BTreeMap::new();
    sessions.insert(
        distributor.owner().clone(),
        Session::new(member, distributor).map_err(err)?,
    );
    let view = verified.view_for(member.address()).ok_or("no view")?;
    group
        .process(member, &view, &mut sessions, now())
        .map_err(err)?;
    Ok(group)
}

/// The epoch secret a member received for its current epoch: what a hostile
/// member knows (read with the library's `hazmat` feature, before the state
/// derives a chain from it and deletes it).
pub fn member_secret(group: &Group) -> Result<EpochSecret> {
    let secret = group.hazmat_current_secret().ok_or("no epoch")?;
    Ok(EpochSecret::from_bytes(*secret.as_bytes()))
}

/// Mallory's forgery "from `claimed`" in her current epoch: the right chain
/// (she holds the epoch `secret`), her own signature.
pub fn forge_group_message(
    g_mallory: &Group,
    secret: &EpochSecret,
    claimed: &DeviceKeys,
    mallory: &DeviceKeys,
) -> Result<Vec<u8>> {
    let transcript = *g_mallory.transcript().ok_or("no epoch")?;
    let epoch = g_mallory.current_epoch().ok_or("no epoch")?;
    let mut header = GroupHeader {
        content_type: ContentType::Text,
        group_id: g_mallory.group_id().clone(),
        epoch,
        epoch_tag: transcript.epoch_tag(),
        sender: claimed.address().clone(),
        counter: 0,
        salt: [1; 16],
        commitment: [0; 32],
    };
    // The claimed sender's leaf of the epoch's secret tree (SPEC.md §8.8),
    // its chain, and the chain's first message secret.
    let roster = g_mallory.roster().ok_or("no epoch")?;
    let position = roster.position(claimed.address()).ok_or("not a member")?;
    let leaf = tree_leaf(
        secret,
        u32::try_from(roster.len()).map_err(err)?,
        u32::try_from(position).map_err(err)?,
    )
    .ok_or("no leaf")?;
    let chain = sender_chain(
        &leaf,
        &transcript,
        claimed.address(),
        claimed.identity().public_key().as_bytes(),
    );
    let keys = chain.step().0.message_keys(&header.salt);
    header.commitment = keys.commitment;
    let head = header.encode();
    let mut out = head.clone();
    out.extend(letterseal::aead::seal(
        &keys.aead_key,
        &keys.nonce,
        &head,
        b"S says: pay M",
    ));
    let signature = mallory
        .identity()
        .sign_labeled(letterseal::labels::sig::GROUP_MESSAGE, &out);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}

fn removed_member(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy: the creator wraps k for A, B, C; C is "removed" but nothing ties k
    // to the member list, so messages under the same group key id still open for C.
    let creator = LegacyKeyPair::generate(rng, LegacyKeyId::new(40));
    let carol = LegacyKeyPair::generate(rng, LegacyKeyId::new(42));
    let k = GroupKey::generate(rng);
    let wrap = wrap_group_key(creator.secret_key(), &carol.public_key(), &k).map_err(err)?;
    let carols_copy =
        unwrap_group_key(carol.secret_key(), &creator.public_key(), &wrap).map_err(err)?;
    let group_id = line_id('c', 0xc4)?;
    let group_key_id = LegacyKeyId::new(901);
    let after_removal = seal_group(
        rng,
        NonceLength::default(),
        &creator,
        &k.public(group_key_id),
        &envelope(&group_id, &line_id('u', 0x40)?),
        br#"{"text":"after Carol left"}"#,
    )
    .map_err(err)?;
    let legacy = open_group(
        &carols_copy,
        group_key_id,
        &creator.public_key(),
        &envelope(&group_id, &line_id('u', 0x40)?),
        &after_removal,
    );

    // LS3: removal is a new epoch; Carol gets no wrap and cannot open it.
    let (alice, a_b) = device(rng, "alice")?;
    let (_bob, b_b) = device(rng, "bob")?;
    let (mut carol3, c_b) = device(rng, "carol")?;
    let id = GroupId::new("club").map_err(err)?;
    let mut g_alice = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
    let mut sessions = BTreeMap::new();
    let first = g_alice
        .propose(
            rng,
            &alice,
            &[a_b.clone(), b_b.clone(), c_b],
            None,
            &mut sessions,
            now(),
        )
        .map_err(err)?;
    let verified = first
        .upload
        .verify_for_server(None, alice.address())
        .map_err(err)?;
    g_alice.commit(now()).map_err(err)?;
    let mut g_carol = join(&mut carol3, &a_b, &verified, &id)?;
    let second = g_alice
        .propose(rng, &alice, &[a_b, b_b], None, &mut sessions, now())
        .map_err(err)?;
    second
        .upload
        .verify_for_server(Some(&verified.record()), alice.address())
        .map_err(err)?;
    g_alice.commit(now()).map_err(err)?;
    let message = g_alice
        .seal(rng, &alice, ContentType::Text, b"after Carol left", b"")
        .map_err(err)?;
    let ls3 = g_carol.open(&message, b"", now());
    Ok(AttackRow {
        attack: "Removed member keeps reading (key not bound to membership)",
        source: "LINE-Break 2025",
        legacy_vulnerable: legacy.is_ok(),
        legacy: "Carol's old group key opens messages after her removal".into(),
        ls3_protected: ls3.is_err(),
        ls3: ls3
            .err()
            .map_or("OPENED".into(), |e| format!("rejected: {}", e.name())),
    })
}

fn unknown_key_share(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy: Carol registers Alice's public key as hers (keys are unsigned, the
    // server checks nothing). Bob writes to "Carol"; Alice reads it.
    let alice = LegacyKeyPair::generate(rng, LegacyKeyId::new(50));
    let bob = LegacyKeyPair::generate(rng, LegacyKeyId::new(51));
    let carols_registration = LegacyPublicKey {
        key_id: LegacyKeyId::new(52),
        key: alice.public_key(),
    };
    let env = envelope(&line_id('u', 0xc5)?, &line_id('u', 0xb5)?);
    let to_carol = seal_v2(
        rng,
        NonceLength::default(),
        &bob,
        &carols_registration,
        &env,
        br#"{"text":"for Carol only"}"#,
    )
    .map_err(err)?;
    let alice_under_carols_id =
        LegacyKeyPair::from_secret(LegacyKeyId::new(52), clone_secret(&alice));
    let legacy = open_v2(&[alice_under_carols_id], &bob.public_key(), &env, &to_carol);

    // LS3: the server refuses the duplicate; even if it did not, the chains differ.
    let (_, ab) = device(rng, "alice")?;
    let (carol, cb) = device(rng, "carol")?;
    let stolen: KeyBundle = BundleContent::new(
        cb.owner().clone(),
        *cb.identity_key(),
        *ab.sealing_key(),
        cb.kem_key(),
        now(),
        now().saturating_add(86_400),
    )
    .sign(carol.identity());
    let alice_key = *ab.sealing_key();
    let alice_address = ab.owner().clone();
    let directory = |key: &letterseal::keys::SealingPublicKey| {
        (*key == alice_key).then(|| alice_address.clone())
    };
    // Carol uploads it from her own authenticated session.
    let registration = stolen.verify(
        &carol.address().clone().into(),
        &RegistrationPolicy::default(),
        now(),
        None,
        &directory,
    );
    Ok(AttackRow {
        attack: "Unknown key share via a duplicated public key",
        source: "Isobe & Minematsu, ESORICS 2018",
        legacy_vulnerable: legacy.is_ok(),
        legacy: "Bob's message to Carol opens for Alice".into(),
        ls3_protected: registration.is_err(),
        ls3: registration.err().map_or("REGISTERED".into(), |e| {
            format!(
                "registration rejected: {} (and chains bind identities)",
                e.name()
            )
        }),
    })
}

/// What an auditor sees when a legacy group key is the constant one
/// open-source client registers for every group it creates (CHRLINE's
/// `Curve25519.generatePrivateKey(bytes(32))`): the flags under the default
/// policy, and the strict policy's verdict.
pub struct ConstantKeyAudit {
    /// The key, unwrapped under [`WeakKeyPolicy::WARN`], with its flags.
    pub warned: UnwrappedGroupKey,
    /// The same wrap under [`WeakKeyPolicy::STRICT`].
    pub strict: std::result::Result<UnwrappedGroupKey, LegacyError>,
}

/// A creator wraps the constant group key for a member; the member unwraps it
/// under both policies.
pub fn audit_constant_group_key(
    creator: &LegacyKeyPair,
    member: LegacyKeyPair,
    group_key_id: LegacyKeyId,
) -> Result<ConstantKeyAudit> {
    // generatePrivateKey(bytes(32)): the all-zero "randomness", clamped.
    let constant = GroupKey::from_random(&[0; 32]);
    let record = SharedGroupKey {
        group_key_id,
        creator_key_id: creator.key_id(),
        receiver_key_id: member.key_id(),
        wrap: wrap_group_key(creator.secret_key(), &member.public_key(), &constant).map_err(err)?,
    };
    let members = [member];
    Ok(ConstantKeyAudit {
        warned: record
            .open(&members, &creator.public(), &WeakKeyPolicy::WARN)
            .map_err(err)?,
        strict: record.open(&members, &creator.public(), &WeakKeyPolicy::STRICT),
    })
}

fn constant_group_key(rng: &mut ChaCha20Rng) -> Result<AttackRow> {
    // Legacy: a client registers one constant group key for every group. An
    // outsider who read its source derives SS_g = X25519(k, pk_sender) for any
    // sender from public keys and reads every such group. The crate flags the
    // key when a member unwraps it; the strict policy refuses it.
    let creator = LegacyKeyPair::generate(rng, LegacyKeyId::new(60));
    let member = LegacyKeyPair::generate(rng, LegacyKeyId::new(61));
    let group_key_id = LegacyKeyId::new(902);
    let audit = audit_constant_group_key(&creator, member, group_key_id)?;
    let group_id = line_id('c', 0xc6)?;
    let creator_id = line_id('u', 0x60)?;
    let sent = GroupSenderSession::new(&creator, creator_id, &audit.warned.public(), group_id)
        .map_err(err)?
        .seal(
            rng,
            LegacyContentType::TEXT,
            &Payload::Text("meet at 6".into()),
        )
        .map_err(err)?;
    let published = GroupKey::from_bytes(KNOWN_CONSTANT_GROUP_KEYS.first().ok_or("no constant")?);
    let outsider = GroupMemberSession::new(
        &published,
        group_key_id,
        group_id,
        &creator.public(),
        creator_id,
    )
    .and_then(|session| session.open(LegacyContentType::TEXT, &sent));
    let flags = audit.warned.warnings().names().join(", ");
    let strict = match &audit.strict {
        Ok(_) => "accepted".to_string(),
        Err(e) => e.name().to_string(),
    };

    // LS3: no group secret is registered by a client or derivable from public
    // data; epoch secrets come from the distributor's CSPRNG and reach only
    // the roster over pairwise sessions. An outsider has nothing to open with.
    let (alice, a_b) = device(rng, "alice")?;
    let (_bob, b_b) = device(rng, "bob")?;
    let (eve, _) = device(rng, "eve")?;
    let id = GroupId::new("club").map_err(err)?;
    let mut g_alice = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
    let mut sessions = BTreeMap::new();
    g_alice
        .propose(rng, &alice, &[a_b, b_b], None, &mut sessions, now())
        .map_err(err)?;
    g_alice.commit(now()).map_err(err)?;
    let message = g_alice
        .seal(rng, &alice, ContentType::Text, b"meet at 6", b"")
        .map_err(err)?;
    let mut g_eve = Group::new(id, eve.address().clone(), GracePolicy::default());
    let ls3 = g_eve.open(&message, b"", now());
    Ok(AttackRow {
        attack: "Constant group key (one client registers the same key for every group)",
        source: "CHRLINE source (tryRegisterE2EEGroupKey); issue 19",
        legacy_vulnerable: outsider.is_ok()
            && audit.warned.warnings().known_constant
            && audit.strict.is_err(),
        legacy: format!(
            "an outsider holding the published key opens the group's messages; \
             flagged on unwrap: {flags}; strict policy: {strict}"
        ),
        ls3_protected: ls3.is_err(),
        ls3: ls3.err().map_or("OPENED".into(), |e| {
            format!(
                "outsider rejected: {} (epoch secrets are fresh from the CSPRNG, sent pairwise)",
                e.name()
            )
        }),
    })
}

fn clone_secret(pair: &LegacyKeyPair) -> letterseal_legacy::keys::X25519SecretKey {
    letterseal_legacy::keys::X25519SecretKey::from_bytes(&pair.secret_key().to_bytes())
}

/// The table as text, for the demo.
pub fn table(rows: &[AttackRow]) -> String {
    let mut out = String::from("| attack | legacy LINE Letter Sealing | LS3 |\n|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {}{} | {}{} |\n",
            r.attack,
            if r.legacy_vulnerable {
                "VULNERABLE: "
            } else {
                "not reproduced: "
            },
            r.legacy,
            if r.ls3_protected {
                ""
            } else {
                "NOT PROTECTED: "
            },
            r.ls3
        ));
    }
    out
}
