//! A member device's view of one group (SPEC.md §8.6–8.11): epochs, the
//! pending proposal, processing distributions, sealing and opening.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
#[cfg(feature = "json-state")]
use serde::Deserializer;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::distribution::{Base, CoreFields, Distribution, RosterSection};
use super::message::GroupHeader;
use super::policy::{RosterPolicy, check_permission};
use super::roster::{Change, Changes, GroupId, Roster};
use super::schedule::{
    EpochSecret, EpochTag, NodeSecret, SecretTree, Transcript, TreeNode, is_tree_node,
    sender_chain, wrap_context, wrap_list_hash,
};
use super::{GroupError, GroupOpenError, GroupSealError};
use crate::aead::{self, TAG_LEN};
use crate::codec::{DecodeError, Reader, Writer};
use crate::device::DeviceKeys;
use crate::ids::DeviceAddress;
use crate::keys::{IdentityPublicKey, SIGNATURE_LEN, Signature};
use crate::labels;
use crate::message::keys::{ChainKey, MessageSecret};
use crate::pairwise::{ContentType, ReplayWindow, SALT_LEN, Session, SessionError, WindowError};
use crate::registration::VerifiedBundle;
use crate::state::{
    self, SealedState, StateCodec, StateError, StateKind, StorageKey, check, field, read_list,
    write_len,
};
use crate::time::Timestamp;

/// Version of the JSON group state (feature `json-state`; SPEC.md §12.3).
/// Version 1, release 0.1's, is refused (SPEC.md §8.11).
pub const GROUP_STATE_VERSION: u32 = 3;
/// Layout version of the group state in a sealed blob (SPEC.md §8.11).
pub const GROUP_BLOB_VERSION: u16 = 3;

/// How long superseded epochs stay openable (for late messages). An old epoch
/// is deleted once it is more than `previous_epochs` epochs behind, or once
/// `max_age_seconds` have passed since it was superseded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GracePolicy {
    /// How many superseded epochs to keep (0: delete at once).
    pub previous_epochs: u32,
    /// How long a superseded epoch stays, in seconds (`None`: no time limit).
    /// Required when loading: a missing value is an error, not "no limit".
    #[serde(deserialize_with = "Option::deserialize")]
    pub max_age_seconds: Option<u64>,
}

impl Default for GracePolicy {
    /// One previous epoch, for one day.
    fn default() -> Self {
        Self {
            previous_epochs: 1,
            max_age_seconds: Some(86_400),
        }
    }
}

/// When the current epoch should be replaced by a fresh one (SPEC.md §8.12):
/// a rotation bounds what a stolen state or a leaked epoch secret opens, and
/// a new epoch's secret reaches the members over ratcheted pairwise sessions,
/// which heal after a compromise. [`Group::rotation_due`] applies it; the
/// application then proposes the new epoch with the members' current bundles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationPolicy {
    /// After this many messages sealed or opened in the epoch by this device
    /// (`None`: no limit).
    #[serde(deserialize_with = "Option::deserialize")]
    pub max_messages: Option<u64>,
    /// Once the epoch is this old, in seconds since this device installed it
    /// (`None`: no limit).
    #[serde(deserialize_with = "Option::deserialize")]
    pub max_age_seconds: Option<u64>,
    /// When a member's sealing key (or identity) differs from its roster
    /// entry: a member rotated its keys, or this device did.
    pub on_key_change: bool,
}

impl Default for RotationPolicy {
    /// 10 000 messages, 7 days, and on every key change.
    fn default() -> Self {
        Self {
            max_messages: Some(10_000),
            max_age_seconds: Some(7 * 86_400),
            on_key_change: true,
        }
    }
}

/// Why [`Group::rotation_due`] asks for a new epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotationReason {
    /// This member's keys differ from its roster entry.
    KeyChanged(DeviceAddress),
    /// The epoch carried this many messages (sealed or opened here).
    Messages(u64),
    /// The epoch is this many seconds old.
    Age(u64),
}

/// What a new epoch changes, for the application to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochChange {
    /// The new epoch.
    pub epoch: u64,
    /// Who made it.
    pub distributor: DeviceAddress,
    /// The device's first epoch of this group: every member is new to it,
    /// and the lists below are empty (read [`Group::roster`]).
    pub first_epoch: bool,
    /// Devices that joined.
    pub joined: Vec<DeviceAddress>,
    /// Devices that left.
    pub left: Vec<DeviceAddress>,
    /// Devices that stayed but changed their identity or sealing key.
    pub rekeyed: Vec<DeviceAddress>,
}

impl EpochChange {
    pub(crate) fn from_changes(
        epoch: u64,
        distributor: &DeviceAddress,
        changes: &Changes<'_>,
    ) -> Self {
        let (mut joined, mut left, mut rekeyed) = (Vec::new(), Vec::new(), Vec::new());
        for c in &changes.list {
            match c {
                Change::Removed(m) => left.push(m.address()),
                Change::Added(m) => joined.push(m.address()),
                Change::Changed { new, .. } => rekeyed.push(new.address()),
            }
        }
        // A delta lists removals before additions: keep each list in address order.
        left.sort();
        Self {
            epoch,
            distributor: distributor.clone(),
            first_epoch: false,
            joined,
            left,
            rekeyed,
        }
    }

    fn first(epoch: u64, distributor: &DeviceAddress) -> Self {
        Self {
            epoch,
            distributor: distributor.clone(),
            first_epoch: true,
            joined: Vec::new(),
            left: Vec::new(),
            rekeyed: Vec::new(),
        }
    }
}

/// A roster change this device made: the upload for the server, and what it
/// changes. The group state holds it as *pending* until [`Group::commit`] or
/// [`Group::abort`].
#[derive(Clone, Debug)]
pub struct Proposal {
    /// The distribution to upload (every other member's wrap; a delta when
    /// there is a previous epoch).
    pub upload: Distribution,
    /// What the new epoch changes.
    pub change: EpochChange,
}

/// What processing a distribution did (SPEC.md §8.7).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Processed {
    /// The epoch is now current.
    Installed {
        /// What it changed.
        change: EpochChange,
        /// This device's pending proposal for the same epoch was deleted (the
        /// server ordered the other one first): redo the change on top.
        discarded_proposal: bool,
    },
    /// This device's own pending proposal came back from the server: it is
    /// committed (as [`Group::commit`] would).
    Committed(EpochChange),
    /// This exact epoch is already held: nothing changed.
    AlreadyProcessed {
        /// The epoch.
        epoch: u64,
    },
}

/// An opened group message.
pub struct GroupOpened {
    /// The member who sent it (its signature was verified).
    pub sender: DeviceAddress,
    /// The epoch it was sealed in.
    pub epoch: u64,
    /// What it carries.
    pub content_type: ContentType,
    /// The plaintext (zeroized on drop).
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The sender's counter.
    pub counter: u64,
    /// Counters of this sender skipped over by this message.
    pub skipped: u64,
    /// True if the message arrived after a later one from the same sender.
    pub late: bool,
}

impl fmt::Debug for GroupOpened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupOpened")
            .field("sender", &self.sender)
            .field("epoch", &self.epoch)
            .field("content_type", &self.content_type)
            .field("plaintext_len", &self.plaintext.len())
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

/// Most message secrets one group message may skip in its sender's chain
/// (SPEC.md §8.9).
pub const MAX_GROUP_SKIP: u64 = 1_000;
/// Most skipped message secrets an epoch stores, over all senders (SPEC.md §8.9).
pub const MAX_GROUP_SKIPPED: usize = 2_000;

/// A sender's receiving chain in one epoch: the chain key for its next
/// counter and the replay window (whose highest counter is the last opened).
#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct ReceivingChain {
    sender: DeviceAddress,
    key: ChainKey,
    window: ReplayWindow,
}

impl ReceivingChain {
    /// The counter the chain key is for.
    fn next(&self) -> u64 {
        self.window.highest().map_or(0, |h| h.saturating_add(1))
    }
}

/// A message secret stored for a message that has not arrived yet.
#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct SkippedSecret {
    sender: DeviceAddress,
    counter: u64,
    secret: MessageSecret,
}

#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
pub(crate) struct Epoch {
    pub(crate) epoch: u64,
    pub(crate) transcript: Transcript,
    pub(crate) tag: EpochTag,
    pub(crate) roster: Roster,
    pub(crate) policy: RosterPolicy,
    pub(crate) distributor: DeviceAddress,
    /// What is left of the epoch secret (SPEC.md §8.8).
    tree: SecretTree,
    /// This device's sending chain, once its leaf was taken.
    #[cfg_attr(
        feature = "json-state",
        serde(deserialize_with = "Option::deserialize")
    )]
    own: Option<ChainKey>,
    pub(crate) next_counter: u64,
    /// Sorted by sender; created when a sender's first message opens.
    chains: Vec<ReceivingChain>,
    /// Sorted by (sender, counter).
    skipped: Vec<SkippedSecret>,
    #[cfg_attr(
        feature = "json-state",
        serde(deserialize_with = "Option::deserialize")
    )]
    pub(crate) superseded_at: Option<Timestamp>,
    /// When this device installed the epoch (rotation policy).
    installed_at: Timestamp,
    /// Messages this device sealed or opened in the epoch (rotation policy).
    messages: u64,
}

/// What opening a group message in an epoch would change (applied only once
/// it authenticated).
struct GroupOpenPlan {
    secret: MessageSecret,
    /// The stored secret it uses (opened late).
    from_skipped: Option<usize>,
    /// The sender's leaf taken from the tree (its first message).
    tree: Option<SecretTree>,
    /// The sender's chain key after this message, when it advances.
    advance: Option<ChainKey>,
    store: Vec<SkippedSecret>,
}

impl Epoch {
    pub(crate) fn new(
        epoch: u64,
        transcript: Transcript,
        roster: Roster,
        policy: RosterPolicy,
        distributor: DeviceAddress,
        secret: EpochSecret,
    ) -> Self {
        let n = roster.count();
        Self {
            epoch,
            tag: transcript.epoch_tag(),
            transcript,
            tree: SecretTree::new(n, &secret),
            roster,
            policy,
            distributor,
            own: None,
            next_counter: 0,
            chains: Vec::new(),
            skipped: Vec::new(),
            superseded_at: None,
            installed_at: Timestamp::from_unix_seconds(0),
            messages: 0,
        }
    }

    fn size(&self) -> u32 {
        self.roster.count()
    }

    fn position(&self, member: &DeviceAddress) -> Option<u32> {
        self.roster
            .position(member)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Sets this device's sending chain (test vectors: a sender that sealed
    /// `next` messages), taking its leaf from the tree. Nothing changes if
    /// `local` is not in the roster: such a device has no leaf, and sealing
    /// refuses it.
    #[cfg(feature = "hazmat")]
    fn set_own_chain(&mut self, local: &DeviceAddress, key: ChainKey, next: u64) {
        if self
            .position(local)
            .and_then(|i| self.tree.take_leaf(i))
            .is_some()
        {
            self.own = Some(key);
            self.next_counter = next;
        }
    }

    /// The epoch secret, while no chain has been derived from it.
    pub(crate) fn secret(&self) -> Option<&NodeSecret> {
        self.tree.root(self.size())
    }

    fn chain_index(&self, sender: &DeviceAddress) -> Result<usize, usize> {
        self.chains.binary_search_by(|c| c.sender.cmp(sender))
    }

    /// This device's chain key for its next message, deriving it from the
    /// tree the first time (changes nothing; the caller commits).
    fn own_chain(
        &self,
        local: &DeviceAddress,
        identity: &[u8; 32],
    ) -> Option<(ChainKey, Option<SecretTree>)> {
        if let Some(key) = &self.own {
            return Some((key.clone(), None));
        }
        let mut tree = self.tree.clone();
        let leaf = tree.take_leaf(self.position(local)?)?;
        Some((
            sender_chain(&leaf, &self.transcript, local, identity),
            Some(tree),
        ))
    }

    /// The message secret for `sender`'s `counter`, and what opening would
    /// change (SPEC.md §8.9 check 10). Changes nothing.
    fn plan_open(
        &self,
        sender: &DeviceAddress,
        identity: &[u8; 32],
        counter: u64,
    ) -> Result<GroupOpenPlan, GroupOpenError> {
        let (key, next, tree) = match self.chain_index(sender) {
            Ok(i) => {
                let chain = self.chains.get(i).ok_or(GroupOpenError::UnknownSender)?;
                if counter < chain.next() {
                    let found = self
                        .skipped
                        .binary_search_by(|s| (&s.sender, s.counter).cmp(&(sender, counter)));
                    return match found {
                        Ok(k) => Ok(GroupOpenPlan {
                            secret: self
                                .skipped
                                .get(k)
                                .map(|s| s.secret.clone())
                                .ok_or(GroupOpenError::TooOld { counter })?,
                            from_skipped: Some(k),
                            tree: None,
                            advance: None,
                            store: Vec::new(),
                        }),
                        Err(_) => Err(match chain.window.check(counter) {
                            Err(WindowError::Replay) => GroupOpenError::Replay { counter },
                            _ => GroupOpenError::TooOld { counter },
                        }),
                    };
                }
                (chain.key.clone(), chain.next(), None)
            }
            Err(_) => {
                let mut tree = self.tree.clone();
                let leaf = self
                    .position(sender)
                    .and_then(|i| tree.take_leaf(i))
                    .ok_or(GroupOpenError::UnknownSender)?;
                let key = sender_chain(&leaf, &self.transcript, sender, identity);
                (key, 0, Some(tree))
            }
        };
        let skip = counter - next;
        let total = usize::try_from(skip)
            .unwrap_or(usize::MAX)
            .saturating_add(self.skipped.len());
        if skip > MAX_GROUP_SKIP || total > MAX_GROUP_SKIPPED {
            return Err(GroupOpenError::TooManySkipped);
        }
        let mut store = Vec::new();
        let mut key = key;
        for c in next..counter {
            let (secret, after) = key.step();
            store.push(SkippedSecret {
                sender: sender.clone(),
                counter: c,
                secret,
            });
            key = after;
        }
        let (secret, after) = key.step();
        Ok(GroupOpenPlan {
            secret,
            from_skipped: None,
            tree,
            advance: Some(after),
            store,
        })
    }

    /// Applies an authenticated open.
    fn commit_open(&mut self, sender: &DeviceAddress, counter: u64, plan: GroupOpenPlan) {
        if let Some(k) = plan.from_skipped {
            self.skipped.remove(k);
        }
        if let Some(tree) = plan.tree {
            self.tree = tree;
        }
        match self.chain_index(sender) {
            Ok(i) => {
                if let Some(chain) = self.chains.get_mut(i) {
                    if let Some(key) = plan.advance {
                        chain.key = key;
                    }
                    chain.window.accept(counter);
                }
            }
            Err(i) => {
                if let Some(key) = plan.advance {
                    let mut window = ReplayWindow::default();
                    window.accept(counter);
                    self.chains.insert(
                        i,
                        ReceivingChain {
                            sender: sender.clone(),
                            key,
                            window,
                        },
                    );
                }
            }
        }
        for s in plan.store {
            let at = self
                .skipped
                .partition_point(|x| (&x.sender, x.counter) < (&s.sender, s.counter));
            self.skipped.insert(at, s);
        }
        self.messages = self.messages.saturating_add(1);
    }
}

/// This device's proposal, waiting for the server's answer.
#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct Pending {
    epoch: Epoch,
}

/// Decoded identity keys of senders and distributors, by their bytes (in
/// memory only): decoding a key is a point decompression, which would
/// otherwise add to every verification.
#[derive(Clone, Default)]
struct IdentityCache(BTreeMap<[u8; 32], IdentityPublicKey>);

impl IdentityCache {
    /// More cached keys than this are dropped at the next epoch change.
    const SLACK: usize = 64;

    fn key(&self, bytes: &[u8; 32]) -> Result<IdentityPublicKey, GroupError> {
        match self.0.get(bytes) {
            Some(key) => Ok(*key),
            None => IdentityPublicKey::from_bytes(bytes).map_err(|_| GroupError::BadSignature),
        }
    }

    /// Remembers a key that just verified a signature.
    fn remember(&mut self, key: IdentityPublicKey) {
        self.0.entry(key.to_bytes()).or_insert(key);
    }

    fn bound(&mut self, members: usize) {
        if self.0.len() > members.saturating_mul(2).saturating_add(Self::SLACK) {
            self.0.clear();
        }
    }
}

/// One device's state of one group: the current epoch, the superseded ones
/// still in their grace period, and at most one pending proposal. Persist it
/// with [`Group::export`] and [`Group::import`] (a sealed blob, SPEC.md §8.11,
/// §12); with the feature `json-state` it also has a JSON form for debugging.
/// Both contain epoch secrets.
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "json-state",
    serde(deny_unknown_fields, try_from = "GroupJson")
)]
pub struct Group {
    #[cfg_attr(not(feature = "json-state"), allow(dead_code))]
    version: u32,
    group_id: GroupId,
    local: DeviceAddress,
    grace: GracePolicy,
    rotation: RotationPolicy,
    /// Ascending by epoch; the last is current.
    epochs: Vec<Epoch>,
    pending: Option<Box<Pending>>,
    #[cfg_attr(feature = "json-state", serde(skip))]
    generation: u64,
    #[cfg_attr(feature = "json-state", serde(skip))]
    identities: IdentityCache,
}

/// The JSON form of a group state (feature `json-state`): every field
/// required; loading goes through the blob layout's checks (SPEC.md §8.11).
#[cfg(feature = "json-state")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupJson {
    #[serde(deserialize_with = "expect_state_version")]
    version: u32,
    group_id: GroupId,
    local: DeviceAddress,
    grace: GracePolicy,
    rotation: RotationPolicy,
    epochs: Vec<Epoch>,
    #[serde(deserialize_with = "Option::deserialize")]
    pending: Option<Box<Pending>>,
}

#[cfg(feature = "json-state")]
impl TryFrom<GroupJson> for Group {
    type Error = StateError;
    fn try_from(json: GroupJson) -> Result<Self, StateError> {
        let unchecked = Self {
            version: json.version,
            group_id: json.group_id,
            local: json.local,
            grace: json.grace,
            rotation: json.rotation,
            epochs: json.epochs,
            pending: json.pending,
            generation: 0,
            identities: IdentityCache::default(),
        };
        // One set of invariant checks for both forms: the blob layout's.
        let mut w = Writer::new();
        let encoded = unchecked.encode_state(&mut w);
        let bytes = Zeroizing::new(w.into_bytes());
        encoded?;
        let mut r = Reader::new(&bytes);
        let group = Self::decode_state(&mut r)?;
        r.finish().map_err(|_| StateError::Invalid {
            field: "(trailing bytes)",
        })?;
        Ok(group)
    }
}

/// JSON version 1 is release 0.1's group state: refused (SPEC.md §8.11).
#[cfg(feature = "json-state")]
fn expect_state_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(d)?;
    if version == GROUP_STATE_VERSION {
        Ok(version)
    } else {
        Err(serde::de::Error::custom(
            StateError::UnsupportedStateVersion {
                kind: StateKind::Group,
                version: u16::try_from(version).unwrap_or(u16::MAX),
            },
        ))
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("group_id", &self.group_id)
            .field("local", &self.local)
            .field(
                "epochs",
                &self.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
            )
            .field("pending", &self.pending_epoch())
            .finish_non_exhaustive()
    }
}

impl Group {
    /// A device's state for a group it has no epoch of yet: it creates the
    /// group with [`Group::propose`] or joins when it processes an epoch.
    pub fn new(group_id: GroupId, local: DeviceAddress, grace: GracePolicy) -> Self {
        Self {
            version: GROUP_STATE_VERSION,
            group_id,
            local,
            grace,
            rotation: RotationPolicy::default(),
            epochs: Vec::new(),
            pending: None,
            generation: 0,
            identities: IdentityCache::default(),
        }
    }

    /// The group.
    pub fn group_id(&self) -> &GroupId {
        &self.group_id
    }

    /// This device.
    pub fn local(&self) -> &DeviceAddress {
        &self.local
    }

    /// The grace policy.
    pub fn grace(&self) -> GracePolicy {
        self.grace
    }

    /// This state with another rotation policy (the default is
    /// [`RotationPolicy::default`]); it is saved with the state.
    #[must_use]
    pub fn with_rotation(mut self, rotation: RotationPolicy) -> Self {
        self.rotation = rotation;
        self
    }

    /// The rotation policy.
    pub fn rotation(&self) -> RotationPolicy {
        self.rotation
    }

    /// Whether the current epoch should be rotated under the rotation policy
    /// at `now` (SPEC.md §8.12), and why; `None` without an epoch. Checks,
    /// in order: this device's current sealing key against its roster entry,
    /// then each of `bundles` (the members' newest verified bundles the
    /// application knows) whose owner is in the roster against its entry,
    /// then the message count, then the age. To rotate, propose the new
    /// epoch with the members' current bundles ([`Group::propose`]).
    pub fn rotation_due(
        &self,
        device: &DeviceKeys,
        bundles: &[VerifiedBundle],
        now: Timestamp,
    ) -> Option<RotationReason> {
        let epoch = self.current()?;
        if self.rotation.on_key_change {
            if let Some(me) = epoch.roster.get(&self.local) {
                let mine = device.current_sealing_key_id();
                if mine != Some(me.sealing_key_id())
                    || *me.identity_key_bytes() != device.identity().public_key().to_bytes()
                {
                    return Some(RotationReason::KeyChanged(self.local.clone()));
                }
            }
            let changed = bundles.iter().find(|bundle| {
                epoch.roster.get(bundle.owner()).is_some_and(|member| {
                    member.sealing_key_id() != bundle.sealing_key_id()
                        || member.identity_key_bytes() != bundle.identity_key().as_bytes()
                })
            });
            if let Some(bundle) = changed {
                return Some(RotationReason::KeyChanged(bundle.owner().clone()));
            }
        }
        if self
            .rotation
            .max_messages
            .is_some_and(|max| epoch.messages >= max)
        {
            return Some(RotationReason::Messages(epoch.messages));
        }
        let age = now
            .unix_seconds()
            .saturating_sub(epoch.installed_at.unix_seconds());
        if self.rotation.max_age_seconds.is_some_and(|max| age >= max) {
            return Some(RotationReason::Age(age));
        }
        None
    }

    fn current(&self) -> Option<&Epoch> {
        self.epochs.last()
    }

    /// The current epoch number.
    pub fn current_epoch(&self) -> Option<u64> {
        self.current().map(|e| e.epoch)
    }

    /// The current roster.
    pub fn roster(&self) -> Option<&Roster> {
        self.current().map(|e| &e.roster)
    }

    /// The current roster-change policy.
    pub fn policy(&self) -> Option<&RosterPolicy> {
        self.current().map(|e| &e.policy)
    }

    /// The current epoch's transcript (SPEC.md §8.3): equal at two members
    /// exactly when they hold the same history.
    pub fn transcript(&self) -> Option<&Transcript> {
        self.current().map(|e| &e.transcript)
    }

    /// Epoch numbers still openable, oldest first.
    pub fn openable_epochs(&self) -> Vec<u64> {
        self.epochs.iter().map(|e| e.epoch).collect()
    }

    /// The epoch of the pending proposal, if any.
    pub fn pending_epoch(&self) -> Option<u64> {
        self.pending.as_ref().map(|p| p.epoch.epoch)
    }

    /// Makes a new epoch with `members` as its roster (SPEC.md §8.6): a fresh
    /// secret wrapped for every other member as a message of its pairwise
    /// session (a missing session is created from the member's bundle and
    /// started by the wrap: X25519 agreements and one ML-KEM encapsulation),
    /// the confirmation, and the signature. `policy` is the new
    /// roster-change policy (`None` keeps the current one; a new group then
    /// gets [`RosterPolicy::any_member`]).
    ///
    /// Returns the upload for the server and holds the proposal as pending:
    /// the current epoch stays in force until [`Group::commit`] (the server
    /// accepted it) or [`Group::abort`]. A failure changes nothing in the
    /// group; sessions may have been created or learned a member's key.
    pub fn propose<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        device: &DeviceKeys,
        members: &[VerifiedBundle],
        policy: Option<RosterPolicy>,
        sessions: &mut BTreeMap<DeviceAddress, Session>,
        now: Timestamp,
    ) -> Result<Proposal, GroupError> {
        if *device.address() != self.local {
            return Err(GroupError::WrongDevice);
        }
        if self.pending.is_some() {
            return Err(GroupError::ProposalPending);
        }
        let current = self.current();
        let epoch = match current {
            None => 1,
            Some(c) => c.epoch.checked_add(1).ok_or(GroupError::EpochExhausted)?,
        };
        let roster = Roster::from_bundles(members)?;
        let identity = device.identity().public_key();
        let me = roster
            .get(&self.local)
            .filter(|m| m.identity_key_bytes() == identity.as_bytes())
            .ok_or(GroupError::DistributorNotMember)?;
        let my_key = me.sealing_key_id();
        if device.sealing_public_key(&my_key) != Some(&me.sealing_key()) {
            return Err(GroupError::DistributorNotMember);
        }
        let policy = policy
            .or_else(|| current.map(|c| c.policy.clone()))
            .unwrap_or_default();
        let user = self.local.user.as_bytes();
        let (previous_transcript, change) = match current {
            Some(c) => {
                let was = c
                    .roster
                    .get(&self.local)
                    .is_some_and(|m| m.identity_key_bytes() == identity.as_bytes());
                if !was {
                    return Err(GroupError::NotPreviousMember);
                }
                if !policy.has_admin_member(&roster) {
                    return Err(GroupError::NoAdminMember);
                }
                let changes = c.roster.changes_to(&roster);
                check_permission(Some((&c.policy, &changes)), &policy, user)?;
                (
                    c.transcript,
                    EpochChange::from_changes(epoch, &self.local, &changes),
                )
            }
            None => {
                if !policy.has_admin_member(&roster) {
                    return Err(GroupError::NoAdminMember);
                }
                check_permission(None, &policy, user)?;
                (Transcript::NONE, EpochChange::first(epoch, &self.local))
            }
        };

        let mut secret = EpochSecret([0u8; 32]);
        rng.fill_bytes(&mut secret.0);
        let roster_hash = roster.hash(&self.group_id);
        let context = wrap_context(
            &self.group_id,
            epoch,
            &previous_transcript,
            &roster_hash,
            &self.local,
        );
        // Bundles in roster order (the roster was built from them, so they are distinct).
        let mut sorted: Vec<&VerifiedBundle> = members.iter().collect();
        sorted.sort_by(|a, b| a.owner().cmp(b.owner()));
        sorted.retain(|b| *b.owner() != self.local);
        // First every check that could refuse a wrap, on no session: a refused
        // proposal leaves every session as it was (new ones are kept aside).
        let mut new_sessions = BTreeMap::new();
        for bundle in &sorted {
            match sessions.get(bundle.owner()) {
                Some(session) => {
                    let learns = session.peer_current_key_id() != Some(bundle.sealing_key_id());
                    if learns && !session.is_peer(bundle) {
                        return Err(GroupError::Session(SessionError::PeerMismatch));
                    }
                    session
                        .seal_checks(
                            device,
                            now,
                            ContentType::GroupKey,
                            learns.then_some(*bundle),
                        )
                        .map_err(GroupError::Wrap)?;
                }
                None => {
                    let session = Session::new(device, bundle).map_err(GroupError::Session)?;
                    session
                        .seal_checks(device, now, ContentType::GroupKey, None)
                        .map_err(GroupError::Wrap)?;
                    new_sessions.insert(bundle.owner().clone(), session);
                }
            }
        }
        sessions.append(&mut new_sessions);
        let mut wraps: Vec<Vec<u8>> = Vec::with_capacity(sorted.len());
        for bundle in sorted {
            let session = sessions
                .get_mut(bundle.owner())
                .ok_or(GroupError::MissingSession)?;
            if session.peer_current_key_id() != Some(bundle.sealing_key_id()) {
                session
                    .add_peer_bundle(bundle)
                    .map_err(GroupError::Session)?;
            }
            // Past the checks above a seal does not fail (see `Session::seal_checks`).
            let wrap = session
                .seal(
                    device,
                    rng,
                    now,
                    ContentType::GroupKey,
                    secret.as_bytes(),
                    &context,
                )
                .map_err(GroupError::Wrap)?;
            wraps.push(wrap);
        }
        let fields = CoreFields {
            group_id: self.group_id.clone(),
            epoch,
            previous_transcript,
            roster_hash,
            policy: policy.clone(),
            distributor: self.local.clone(),
            distributor_identity: identity.to_bytes(),
            wrap_list_hash: wrap_list_hash(&wraps),
        };
        let core = fields.confirmed(&secret);
        let section = match current {
            Some(c) => RosterSection::Delta(c.roster.delta_to(&roster)?),
            None => RosterSection::Full(roster.clone()),
        };
        let upload = Distribution::sign(&core, device.identity(), section, wraps)?;
        let transcript = upload.core().transcript();
        self.pending = Some(Box::new(Pending {
            epoch: Epoch::new(
                epoch,
                transcript,
                roster,
                policy,
                self.local.clone(),
                secret,
            ),
        }));
        Ok(Proposal { upload, change })
    }

    /// Installs the pending proposal: the server accepted it (SPEC.md §8.6).
    ///
    /// A change is pending until the server answers: [`Self::commit`] when it
    /// accepted the upload, [`Self::abort`] when it refused it (for example,
    /// another member's change won the epoch: process that one, then propose
    /// again on top).
    ///
    /// ```
    /// use letterseal::group::GroupError;
    /// # use std::collections::BTreeMap;
    /// # use letterseal::device::DeviceKeys;
    /// # use letterseal::group::{GracePolicy, Group, GroupId};
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([14; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut make = |name: &str| {
    /// #     let mut keys = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
    /// #     let bundle = keys.add_sealing_key(&mut rng, now, 86_400);
    /// #     let owner = keys.address().clone().into();
    /// #     (keys, bundle.verify(&owner, &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap())
    /// # };
    /// # let (alice, alice_b) = make("alice");
    /// # let (bob, bob_b) = make("bob");
    /// # let (carol, carol_b) = make("carol");
    /// # let mut sessions = BTreeMap::new();
    /// let mut group = Group::new(GroupId::new("team").unwrap(), alice.address().clone(), GracePolicy::default());
    /// let _first = group.propose(&mut rng, &alice, &[alice_b.clone(), bob_b.clone()], None, &mut sessions, now).unwrap();
    /// assert_eq!((group.current_epoch(), group.pending_epoch()), (None, Some(1)));
    /// group.commit(now).unwrap(); // the server accepted epoch 1
    /// assert_eq!((group.current_epoch(), group.pending_epoch()), (Some(1), None));
    ///
    /// // Epoch 2 adds Carol, but the server refuses it: epoch 1 stays in force.
    /// let _second = group.propose(&mut rng, &alice, &[alice_b, bob_b, carol_b], None, &mut sessions, now).unwrap();
    /// assert_eq!(group.abort(), Ok(2));
    /// assert_eq!(group.current_epoch(), Some(1));
    /// assert_eq!(group.commit(now).unwrap_err(), GroupError::NothingPending);
    /// ```
    pub fn commit(&mut self, now: Timestamp) -> Result<EpochChange, GroupError> {
        let pending = self.pending.take().ok_or(GroupError::NothingPending)?;
        let epoch = pending.epoch;
        // The current epoch cannot change while a proposal is pending (processing
        // another epoch deletes the proposal): this is the change `propose` reported.
        let change = match self.current() {
            Some(c) => EpochChange::from_changes(
                epoch.epoch,
                &self.local,
                &c.roster.changes_to(&epoch.roster),
            ),
            None => EpochChange::first(epoch.epoch, &self.local),
        };
        self.install(epoch, now);
        Ok(change)
    }

    /// Deletes the pending proposal (the server refused it) and zeroizes its
    /// secret. Returns its epoch number.
    pub fn abort(&mut self) -> Result<u64, GroupError> {
        let pending = self.pending.take().ok_or(GroupError::NothingPending)?;
        Ok(pending.epoch.epoch)
    }

    /// Processes a distribution received from the server (SPEC.md §8.7):
    /// a view (or an upload), with this device's pairwise sessions by peer
    /// address. On failure nothing changes.
    ///
    /// Views are processed in epoch order. A member removed in an epoch gets
    /// no view of it and cannot open what is sealed in it:
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::group::{GracePolicy, Group, GroupId};
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::pairwise::{ContentType, Session};
    /// use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([17; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut make = |name: &str| {
    /// #     let mut keys = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
    /// #     let bundle = keys.add_sealing_key(&mut rng, now, 86_400);
    /// #     let owner = keys.address().clone().into();
    /// #     (keys, bundle.verify(&owner, &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap())
    /// # };
    /// # let (alice, alice_b) = make("alice");
    /// # let (mut bob, bob_b) = make("bob");
    /// # let (mut carol, carol_b) = make("carol");
    /// let id = GroupId::new("team").unwrap();
    /// let mut at_alice = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
    /// let mut alice_sessions = BTreeMap::new();
    ///
    /// // Epoch 1: {Alice, Bob, Carol}. Epoch 2: Alice removes Carol.
    /// let everyone = [alice_b.clone(), bob_b.clone(), carol_b];
    /// let one = at_alice.propose(&mut rng, &alice, &everyone, None, &mut alice_sessions, now).unwrap();
    /// let one = one.upload.verify_for_server(None, alice.address()).unwrap();
    /// at_alice.commit(now).unwrap();
    /// let two = at_alice.propose(&mut rng, &alice, &[alice_b.clone(), bob_b], None, &mut alice_sessions, now).unwrap();
    /// let two = two.upload.verify_for_server(Some(&one.record()), alice.address()).unwrap();
    /// at_alice.commit(now).unwrap();
    /// assert!(two.view_for(carol.address()).is_none());
    ///
    /// // Bob and Carol process their views with their sessions with Alice.
    /// let mut bob_sessions = BTreeMap::from([(alice.address().clone(), Session::new(&bob, &alice_b).unwrap())]);
    /// let mut at_bob = Group::new(id.clone(), bob.address().clone(), GracePolicy::default());
    /// for view in [one.view_for(bob.address()).unwrap(), two.view_for(bob.address()).unwrap()] {
    ///     at_bob.process(&mut bob, &view, &mut bob_sessions, now).unwrap();
    /// }
    /// let mut carol_sessions = BTreeMap::from([(alice.address().clone(), Session::new(&carol, &alice_b).unwrap())]);
    /// let mut at_carol = Group::new(id, carol.address().clone(), GracePolicy::default());
    /// let carol_view = one.view_for(carol.address()).unwrap();
    /// at_carol.process(&mut carol, &carol_view, &mut carol_sessions, now).unwrap();
    /// assert_eq!((at_bob.current_epoch(), at_carol.current_epoch()), (Some(2), Some(1)));
    ///
    /// // What Alice seals now, Bob opens and Carol cannot.
    /// let sealed = at_alice.seal(&mut rng, &alice, ContentType::Text, b"without Carol", b"").unwrap();
    /// assert_eq!(at_bob.open(&sealed, b"", now).unwrap().plaintext.as_slice(), b"without Carol");
    /// assert!(at_carol.open(&sealed, b"", now).is_err());
    /// ```
    pub fn process(
        &mut self,
        device: &mut DeviceKeys,
        view: &Distribution,
        sessions: &mut BTreeMap<DeviceAddress, Session>,
        now: Timestamp,
    ) -> Result<Processed, GroupError> {
        if *device.address() != self.local {
            return Err(GroupError::WrongDevice);
        }
        let core = view.core();
        let f = core.fields();
        if f.group_id != self.group_id {
            return Err(GroupError::WrongGroup);
        }
        let key = self.identities.key(&f.distributor_identity)?;
        core.verify_with(&key, view.signature())?;
        core.check_epoch_number()?;
        let transcript = core.transcript();
        if let Some(held) = self.epochs.iter().find(|e| e.epoch == f.epoch) {
            return if held.transcript == transcript {
                Ok(Processed::AlreadyProcessed { epoch: f.epoch })
            } else {
                Err(GroupError::ConflictingEpoch)
            };
        }
        let current = self.current();
        if let Some(c) = current {
            if f.epoch <= c.epoch {
                return Err(GroupError::StaleEpoch);
            }
            if c.epoch.checked_add(1) != Some(f.epoch) {
                return Err(GroupError::EpochGap);
            }
            if f.previous_transcript != c.transcript {
                return Err(GroupError::ForkedHistory);
            }
        }
        if f.distributor == self.local {
            let mine = self
                .pending
                .as_ref()
                .is_some_and(|p| p.epoch.transcript == transcript);
            if !mine {
                return Err(GroupError::NotPending);
            }
            return self.commit(now).map(Processed::Committed);
        }
        let base = current.map(|c| Base {
            roster: &c.roster,
            policy: &c.policy,
        });
        let rebuilt = view.check_roster(base, true)?;
        let roster = &rebuilt.roster;
        let my_index = roster.position(&self.local).ok_or(GroupError::NotAMember)?;
        let me = roster.member(my_index).ok_or(GroupError::NotAMember)?;
        let my_key = me.sealing_key_id();
        if *me.identity_key_bytes() != device.identity().public_key().to_bytes()
            || device.sealing_public_key(&my_key) != Some(&me.sealing_key())
        {
            return Err(GroupError::NotAMember);
        }
        let wrap = view
            .wrap_at(roster, my_index)
            .ok_or(GroupError::MissingWrap)?;
        let session = sessions
            .get_mut(&f.distributor)
            .ok_or(GroupError::MissingSession)?;
        if *session.peer() != f.distributor
            || *session.peer_identity_key().as_bytes() != f.distributor_identity
        {
            return Err(GroupError::DistributorMismatch);
        }
        let context = wrap_context(
            &f.group_id,
            f.epoch,
            &f.previous_transcript,
            &f.roster_hash,
            &f.distributor,
        );
        // The wrap is a pairwise message on the control chain (SPEC.md §8.4);
        // the session changes only if it is a group key confirming the core.
        let mut opened = None;
        session.open_accepting(device, now, wrap, &context, |content_type, plaintext| {
            let bytes: &[u8; 32] = match (content_type, plaintext.try_into()) {
                (ContentType::GroupKey, Ok(bytes)) => bytes,
                _ => return Err(GroupError::InvalidWrap),
            };
            let secret = EpochSecret(*bytes);
            if !secret.confirms(core.unconfirmed(), core.confirmation()) {
                return Err(GroupError::ConfirmationMismatch);
            }
            opened = Some(secret);
            Ok(())
        })?;
        let secret = opened.ok_or(GroupError::InvalidWrap)?;
        let change = rebuilt
            .change
            .unwrap_or_else(|| EpochChange::first(f.epoch, &f.distributor));
        let epoch = Epoch::new(
            f.epoch,
            transcript,
            rebuilt.roster,
            f.policy.clone(),
            f.distributor.clone(),
            secret,
        );
        let discarded_proposal = self.pending.take().is_some();
        self.identities.remember(key);
        self.install(epoch, now);
        Ok(Processed::Installed {
            change,
            discarded_proposal,
        })
    }

    fn install(&mut self, mut epoch: Epoch, now: Timestamp) {
        if let Some(old) = self.epochs.last_mut() {
            old.superseded_at = Some(now);
        }
        epoch.installed_at = now;
        let members = epoch.roster.len();
        self.epochs.push(epoch);
        self.expire(now);
        self.identities.bound(members);
    }

    /// Deletes superseded epochs whose grace period is over (SPEC.md §8.10).
    pub fn expire(&mut self, now: Timestamp) {
        let keep = usize::try_from(self.grace.previous_epochs).unwrap_or(usize::MAX);
        let excess = self.epochs.len().saturating_sub(keep.saturating_add(1));
        self.epochs.drain(..excess);
        let grace = self.grace;
        self.epochs.retain(|e| !expired(e, grace, now));
    }

    /// Seals a message to the group in the current epoch (SPEC.md §8.8):
    /// encrypted under this device's sender chain, signed by its identity key.
    pub fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        device: &DeviceKeys,
        content_type: ContentType,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, GroupSealError> {
        if *device.address() != self.local {
            return Err(GroupSealError::WrongDevice);
        }
        let group_id = self.group_id.clone();
        let epoch = self.epochs.last_mut().ok_or(GroupSealError::NoEpoch)?;
        let me = epoch
            .roster
            .get(&self.local)
            .ok_or(GroupSealError::NotAMember)?;
        let identity = device.identity().public_key();
        if me.identity_key_bytes() != identity.as_bytes() {
            return Err(GroupSealError::WrongDevice);
        }
        let counter = epoch.next_counter;
        if counter == u64::MAX {
            return Err(GroupSealError::CounterExhausted);
        }
        let (chain, tree) = epoch
            .own_chain(&self.local, identity.as_bytes())
            .ok_or(GroupSealError::NotAMember)?;
        let mut header = GroupHeader {
            content_type,
            group_id,
            epoch: epoch.epoch,
            epoch_tag: epoch.tag,
            sender: self.local.clone(),
            counter,
            salt: [0; SALT_LEN],
            commitment: [0; 32],
        };
        let (secret, next) = chain.step();
        // A hedged salt (SPEC.md §8.8, as §7.4): fresh randomness and the message.
        let bound = header.bound_fields();
        header.salt = secret.hedged_salt(rng, &bound, associated_data, plaintext);
        let keys = secret.message_keys(&header.salt);
        header.commitment = keys.commitment;
        let header = header.encode();

        let mut out = Vec::with_capacity(header.len() + plaintext.len() + TAG_LEN + SIGNATURE_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(plaintext);
        let tag = {
            let (head, body) = out.split_at_mut(header.len());
            let aad = aead::header_and_associated(head, associated_data);
            aead::seal_in_place_detached(&keys.aead_key, &keys.nonce, &aad, body)
        };
        out.extend_from_slice(&tag);
        let signature = device
            .identity()
            .sign_labeled(labels::sig::GROUP_MESSAGE, &out);
        out.extend_from_slice(&signature.to_bytes());
        if let Some(tree) = tree {
            epoch.tree = tree;
        }
        epoch.own = Some(next);
        epoch.next_counter = counter + 1;
        epoch.messages = epoch.messages.saturating_add(1);
        Ok(out)
    }

    /// Opens a group message (SPEC.md §8.9). Checks, in order: format, group,
    /// epoch held and within its grace period at `now`, sender in that
    /// epoch's roster, not this device, still a member (for a superseded
    /// epoch), the sender's signature, the epoch tag, its replay window, the
    /// key commitment and the AEAD tag. A failure changes nothing.
    pub fn open(
        &mut self,
        sealed: &[u8],
        associated_data: &[u8],
        now: Timestamp,
    ) -> Result<GroupOpened, GroupOpenError> {
        let mut r = Reader::new(sealed);
        let header = GroupHeader::decode(&mut r).map_err(|e| match e {
            DecodeError::UnknownVersion(v) => GroupOpenError::UnsupportedVersion(v),
            other => GroupOpenError::Malformed(other),
        })?;
        let header_len = sealed.len() - r.remaining();
        let truncated = GroupOpenError::Malformed(DecodeError::Truncated);
        let (signed, signature) = sealed
            .split_last_chunk::<SIGNATURE_LEN>()
            .ok_or(truncated)?;
        let (head, body) = signed.split_at_checked(header_len).ok_or(truncated)?;
        let (ciphertext, tag) = body.split_last_chunk::<TAG_LEN>().ok_or(truncated)?;
        let (signature, tag) = (*signature, *tag);

        if header.group_id != self.group_id {
            return Err(GroupOpenError::WrongGroup);
        }
        let grace = self.grace;
        let index = self
            .epochs
            .iter()
            .position(|e| e.epoch == header.epoch)
            .ok_or(GroupOpenError::UnknownEpoch(header.epoch))?;
        let is_current = index + 1 == self.epochs.len();
        let (held, current) = match (self.epochs.get(index), self.epochs.last()) {
            (Some(h), Some(c)) => (h, c),
            _ => return Err(GroupOpenError::UnknownEpoch(header.epoch)),
        };
        if expired(held, grace, now) {
            return Err(GroupOpenError::EpochExpired(header.epoch));
        }
        let sender = held
            .roster
            .get(&header.sender)
            .ok_or(GroupOpenError::UnknownSender)?;
        if header.sender == self.local {
            return Err(GroupOpenError::OwnMessage);
        }
        if !is_current
            && current
                .roster
                .get(&header.sender)
                .is_none_or(|m| m.identity_key_bytes() != sender.identity_key_bytes())
        {
            return Err(GroupOpenError::SenderRemoved);
        }
        let identity = *sender.identity_key_bytes();
        let key = self
            .identities
            .key(&identity)
            .map_err(|_| GroupOpenError::BadSignature)?;
        key.verify_labeled(
            labels::sig::GROUP_MESSAGE,
            signed,
            &Signature::from_bytes(signature),
        )
        .map_err(|_| GroupOpenError::BadSignature)?;
        if header.epoch_tag != held.tag {
            return Err(GroupOpenError::ForkedEpoch(header.epoch));
        }
        let counter = header.counter;
        let plan = held.plan_open(&header.sender, &identity, counter)?;
        let keys = plan.secret.message_keys(&header.salt);
        if !keys.commitment_matches(&header.commitment) {
            return Err(GroupOpenError::CommitmentMismatch);
        }
        let aad = aead::header_and_associated(head, associated_data);
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        aead::open_in_place_detached(&keys.aead_key, &keys.nonce, &aad, &mut plaintext, &tag)
            .map_err(|_| GroupOpenError::AuthenticationFailed)?;
        self.identities.remember(key);
        let late = plan.from_skipped.is_some();
        let skipped = u64::try_from(plan.store.len()).unwrap_or(u64::MAX);
        if let Some(epoch) = self.epochs.get_mut(index) {
            epoch.commit_open(&header.sender, counter, plan);
        }
        Ok(GroupOpened {
            sender: header.sender,
            epoch: header.epoch,
            content_type: header.content_type,
            plaintext,
            counter,
            skipped,
            late,
        })
    }
}

impl Group {
    /// Seals the state as a blob under `key` (SPEC.md §8.11, §12), with a
    /// generation one higher than the last export. The blob holds the epoch
    /// secrets and the pending proposal.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::group::{GracePolicy, Group, GroupId};
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// use letterseal::state::{StateError, StorageKey};
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([18; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut make = |name: &str| {
    /// #     let mut keys = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
    /// #     let bundle = keys.add_sealing_key(&mut rng, now, 86_400);
    /// #     let owner = keys.address().clone().into();
    /// #     (keys, bundle.verify(&owner, &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap())
    /// # };
    /// # let (alice, alice_b) = make("alice");
    /// # let (_bob, bob_b) = make("bob");
    /// let mut group = Group::new(GroupId::new("team").unwrap(), alice.address().clone(), GracePolicy::default());
    /// let mut sessions = BTreeMap::new();
    /// group.propose(&mut rng, &alice, &[alice_b, bob_b], None, &mut sessions, now).unwrap();
    /// group.commit(now).unwrap();
    ///
    /// let key = StorageKey::generate(&mut rng); // the app's key, in the OS keystore
    /// let saved = group.export(&mut rng, &key).unwrap();
    /// let restored = Group::import(&key, saved.as_bytes(), saved.generation()).unwrap();
    /// assert_eq!(restored.transcript(), group.transcript());
    ///
    /// // After the next export, the app raises its minimum: the old blob is a rollback.
    /// let newer = group.export(&mut rng, &key).unwrap();
    /// assert!(matches!(
    ///     Group::import(&key, saved.as_bytes(), newer.generation()),
    ///     Err(StateError::RolledBack { .. })
    /// ));
    /// ```
    pub fn export<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &StorageKey,
    ) -> Result<SealedState, StateError> {
        state::export(self, rng, key)
    }

    /// Opens a blob made by [`Self::export`], refusing a generation below
    /// `minimum_generation` (rollback) and any damaged, foreign or
    /// inconsistent state, naming the field (SPEC.md §12.1). Layout version 1
    /// (the release-0.1 group state, which had only a JSON form) is refused
    /// with [`StateError::UnsupportedStateVersion`]: the device rejoins.
    pub fn import(
        key: &StorageKey,
        blob: &[u8],
        minimum_generation: u64,
    ) -> Result<Self, StateError> {
        state::import(key, blob, minimum_generation)
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The shortest encoded epoch (one-byte ids, a one-member roster, one tree node).
const MIN_EPOCH_LEN: usize = 8 + 32 + 90 + 1 + 6 + 8 + 8 + 4 + 40 + 1 + 8 + 4 + 4 + 1 + 8;
/// The shortest encoded receiving chain.
/// (An address of at least 6 bytes, a chain key and a window: `u8 ‖ u64 ‖ 16 × u64`, SPEC.md §12.2.)
const MIN_CHAIN_LEN: usize = 6 + 32 + 1 + 8 + 16 * 8;
/// The shortest encoded skipped secret.
const MIN_SKIPPED_LEN: usize = 6 + 8 + 32;
/// An encoded tree node.
const TREE_NODE_LEN: usize = 4 + 4 + 32;

fn encode_epoch(e: &Epoch, w: &mut Writer, names: &EpochFields) -> Result<(), StateError> {
    w.u64(e.epoch);
    w.raw(e.transcript.as_bytes());
    w.raw(e.roster.as_bytes());
    e.policy.encode(w);
    e.distributor.encode(w);
    w.u64(e.installed_at.unix_seconds());
    w.u64(e.messages);
    write_len(w, names.tree, e.tree.nodes.len())?;
    for node in &e.tree.nodes {
        w.u32(node.lo);
        w.u32(node.hi);
        w.raw(node.secret.as_bytes());
    }
    w.u8(u8::from(e.own.is_some()));
    if let Some(own) = &e.own {
        w.raw(own.as_bytes());
    }
    w.u64(e.next_counter);
    write_len(w, names.chains, e.chains.len())?;
    for chain in &e.chains {
        chain.sender.encode(w);
        w.raw(chain.key.as_bytes());
        chain.window.encode(w);
    }
    write_len(w, names.skipped, e.skipped.len())?;
    for skipped in &e.skipped {
        skipped.sender.encode(w);
        w.u64(skipped.counter);
        w.raw(skipped.secret.as_bytes());
    }
    w.u8(u8::from(e.superseded_at.is_some()));
    w.u64(e.superseded_at.map_or(0, Timestamp::unix_seconds));
    Ok(())
}

fn decode_epoch(
    r: &mut Reader<'_>,
    names: &EpochFields,
    local: &DeviceAddress,
) -> Result<Epoch, StateError> {
    let number = field(names.epoch, r.u64())?;
    check(names.epoch, number >= 1)?;
    let transcript = Transcript::from_bytes(field(names.transcript, r.array())?);
    let roster = Roster::decode(r).map_err(|_| StateError::Invalid {
        field: names.roster,
    })?;
    let n = u32::try_from(roster.len()).map_err(|_| StateError::Invalid {
        field: names.roster,
    })?;
    let policy = RosterPolicy::decode(r).map_err(|_| StateError::Invalid {
        field: names.policy,
    })?;
    check(names.policy, policy.has_admin_member(&roster))?;
    let distributor = field(names.distributor, DeviceAddress::decode(r))?;
    check(names.distributor, roster.get(&distributor).is_some())?;
    let installed_at = Timestamp::from_unix_seconds(field(names.installed_at, r.u64())?);
    let messages = field(names.messages, r.u64())?;
    // The tree: valid nodes, ascending and disjoint.
    let mut end = 0u32;
    let nodes = read_list(r, names.tree, TREE_NODE_LEN, |r| {
        let lo = field(names.tree, r.u32())?;
        let hi = field(names.tree, r.u32())?;
        check(names.tree, lo >= end && is_tree_node(n, lo, hi))?;
        end = hi;
        Ok(TreeNode {
            lo,
            hi,
            secret: NodeSecret(field(names.tree, r.array())?),
        })
    })?;
    let tree = SecretTree { nodes };
    let own = match field(names.own, r.u8())? {
        0 => None,
        1 => Some(ChainKey::from_bytes(field(names.own, r.array())?)),
        _ => return Err(StateError::Invalid { field: names.own }),
    };
    let next_counter = field(names.next_counter, r.u64())?;
    check(names.next_counter, next_counter == 0 || own.is_some())?;
    let mut last: Option<DeviceAddress> = None;
    let chains = read_list(r, names.chains, MIN_CHAIN_LEN, |r| {
        let sender = field(names.chains, DeviceAddress::decode(r))?;
        check(
            names.chains,
            roster.get(&sender).is_some()
                && sender != *local
                && last.as_ref().is_none_or(|l| *l < sender),
        )?;
        last = Some(sender.clone());
        let key = ChainKey::from_bytes(field(names.chains, r.array())?);
        let window = ReplayWindow::decode(r, names.chains)?;
        check(names.chains, window.highest().is_some())?;
        Ok(ReceivingChain {
            sender,
            key,
            window,
        })
    })?;
    let mut previous: Option<(DeviceAddress, u64)> = None;
    let skipped = read_list(r, names.skipped, MIN_SKIPPED_LEN, |r| {
        let sender = field(names.skipped, DeviceAddress::decode(r))?;
        let counter = field(names.skipped, r.u64())?;
        let chain = chains
            .binary_search_by(|c| c.sender.cmp(&sender))
            .ok()
            .and_then(|i| chains.get(i));
        check(
            names.skipped,
            chain.is_some_and(|c| counter < c.next())
                && previous
                    .as_ref()
                    .is_none_or(|(s, c)| (s, *c) < (&sender, counter)),
        )?;
        previous = Some((sender.clone(), counter));
        Ok(SkippedSecret {
            sender,
            counter,
            secret: MessageSecret::from_bytes(field(names.skipped, r.array())?),
        })
    })?;
    check(names.skipped, skipped.len() <= MAX_GROUP_SKIPPED)?;
    // Every roster position is under exactly one of: a tree node, this
    // device's chain, a receiving chain.
    let mut covered = alloc::vec![false; roster.len()];
    let mut cover = |i: Option<usize>| -> Result<(), StateError> {
        let slot = i.and_then(|i| covered.get_mut(i));
        match slot {
            Some(seen) if !*seen => {
                *seen = true;
                Ok(())
            }
            _ => Err(StateError::Invalid { field: names.tree }),
        }
    };
    for node in &tree.nodes {
        for i in node.lo..node.hi {
            cover(usize::try_from(i).ok())?;
        }
    }
    if own.is_some() {
        cover(roster.position(local))?;
    }
    for chain in &chains {
        cover(roster.position(&chain.sender))?;
    }
    check(names.tree, covered.iter().all(|c| *c))?;
    let superseded_at = read_optional(r, names.superseded_at)?.map(Timestamp::from_unix_seconds);
    Ok(Epoch {
        epoch: number,
        tag: transcript.epoch_tag(),
        transcript,
        roster,
        policy,
        distributor,
        tree,
        own,
        next_counter,
        chains,
        skipped,
        superseded_at,
        installed_at,
        messages,
    })
}

/// `u8(0 | 1) ‖ u64(value, 0 if none)`.
fn write_optional(w: &mut Writer, value: Option<u64>) {
    w.u8(u8::from(value.is_some()));
    w.u64(value.unwrap_or(0));
}

/// Reads [`write_optional`]'s form: a flag of 0 or 1, and 0 beside a 0 flag.
fn read_optional(r: &mut Reader<'_>, name: &'static str) -> Result<Option<u64>, StateError> {
    let flag = field(name, r.u8())?;
    let value = field(name, r.u64())?;
    match flag {
        0 => {
            check(name, value == 0)?;
            Ok(None)
        }
        1 => Ok(Some(value)),
        _ => Err(StateError::Invalid { field: name }),
    }
}

/// Field names of an epoch, as error paths.
struct EpochFields {
    epoch: &'static str,
    transcript: &'static str,
    roster: &'static str,
    policy: &'static str,
    distributor: &'static str,
    installed_at: &'static str,
    messages: &'static str,
    tree: &'static str,
    own: &'static str,
    next_counter: &'static str,
    chains: &'static str,
    skipped: &'static str,
    superseded_at: &'static str,
}

macro_rules! epoch_fields {
    ($prefix:literal) => {
        EpochFields {
            epoch: concat!($prefix, ".epoch"),
            transcript: concat!($prefix, ".transcript"),
            roster: concat!($prefix, ".roster"),
            policy: concat!($prefix, ".policy"),
            distributor: concat!($prefix, ".distributor"),
            installed_at: concat!($prefix, ".installed_at"),
            messages: concat!($prefix, ".messages"),
            tree: concat!($prefix, ".tree"),
            own: concat!($prefix, ".own"),
            next_counter: concat!($prefix, ".next_counter"),
            chains: concat!($prefix, ".chains"),
            skipped: concat!($prefix, ".skipped"),
            superseded_at: concat!($prefix, ".superseded_at"),
        }
    };
}

const EPOCH_FIELDS: EpochFields = epoch_fields!("epochs");
const PENDING_FIELDS: EpochFields = epoch_fields!("pending");

impl StateCodec for Group {
    const KIND: StateKind = StateKind::Group;
    const VERSION: u16 = GROUP_BLOB_VERSION;

    fn generation_mut(&mut self) -> &mut u64 {
        &mut self.generation
    }

    /// `lp8(group id) ‖ local address ‖ u32(previous epochs) ‖ u8(0 | 1) ‖
    /// u64(max age, 0 if none) ‖ u32(e) ‖ e × epoch ‖ u8(0 | 1) ‖ [pending epoch]`
    /// (SPEC.md §8.11).
    fn encode_state(&self, w: &mut Writer) -> Result<(), StateError> {
        self.group_id.encode(w);
        self.local.encode(w);
        w.u32(self.grace.previous_epochs);
        write_optional(w, self.grace.max_age_seconds);
        write_optional(w, self.rotation.max_messages);
        write_optional(w, self.rotation.max_age_seconds);
        w.u8(u8::from(self.rotation.on_key_change));
        write_len(w, "epochs", self.epochs.len())?;
        for e in &self.epochs {
            encode_epoch(e, w, &EPOCH_FIELDS)?;
        }
        match &self.pending {
            None => w.u8(0),
            Some(p) => {
                w.u8(1);
                encode_epoch(&p.epoch, w, &PENDING_FIELDS)?;
            }
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError> {
        let group_id = field("group_id", GroupId::decode(r))?;
        let local = field("local", DeviceAddress::decode(r))?;
        let previous_epochs = field("grace.previous_epochs", r.u32())?;
        let grace = GracePolicy {
            previous_epochs,
            max_age_seconds: read_optional(r, "grace.max_age_seconds")?,
        };
        let rotation = RotationPolicy {
            max_messages: read_optional(r, "rotation.max_messages")?,
            max_age_seconds: read_optional(r, "rotation.max_age_seconds")?,
            on_key_change: match field("rotation.on_key_change", r.u8())? {
                0 => false,
                1 => true,
                _ => {
                    return Err(StateError::Invalid {
                        field: "rotation.on_key_change",
                    });
                }
            },
        };
        let epochs = read_list(r, "epochs", MIN_EPOCH_LEN, |r| {
            decode_epoch(r, &EPOCH_FIELDS, &local)
        })?;
        let ascending = epochs.windows(2).all(|pair| match pair {
            [a, b] => a.epoch < b.epoch && a.superseded_at.is_some(),
            _ => true,
        });
        check("epochs.order", ascending)?;
        check(
            "epochs.superseded_at",
            epochs.last().is_none_or(|e| e.superseded_at.is_none()),
        )?;
        let keep = usize::try_from(previous_epochs).unwrap_or(usize::MAX);
        check("epochs", epochs.len() <= keep.saturating_add(1))?;
        let pending = match field("pending", r.u8())? {
            0 => None,
            1 => {
                let e = decode_epoch(r, &PENDING_FIELDS, &local)?;
                let next = match epochs.last() {
                    None => Some(1),
                    Some(c) => c.epoch.checked_add(1),
                };
                check("pending.epoch", next == Some(e.epoch))?;
                check("pending.distributor", e.distributor == local)?;
                check("pending.tree", e.secret().is_some())?;
                check(
                    "pending.chains",
                    e.chains.is_empty() && e.skipped.is_empty() && e.own.is_none(),
                )?;
                check("pending.next_counter", e.next_counter == 0)?;
                check(
                    "pending.messages",
                    e.messages == 0 && e.installed_at.unix_seconds() == 0,
                )?;
                check("pending.superseded_at", e.superseded_at.is_none())?;
                Some(Box::new(Pending { epoch: e }))
            }
            _ => return Err(StateError::Invalid { field: "pending" }),
        };
        Ok(Self {
            version: GROUP_STATE_VERSION,
            group_id,
            local,
            grace,
            rotation,
            epochs,
            pending,
            generation: 0,
            identities: IdentityCache::default(),
        })
    }
}

/// One epoch of a group state given as raw parts (feature `hazmat`): what a
/// test vector or a hostile-member test states directly instead of reaching it
/// through distributions. See [`Group::hazmat_from_epochs`].
#[cfg(feature = "hazmat")]
#[derive(Debug)]
pub struct RawEpoch {
    /// The epoch number.
    pub epoch: u64,
    /// The epoch's transcript hash (its tag is derived from it).
    pub transcript: Transcript,
    /// The epoch's roster; its first member is taken as the distributor, and
    /// any member may change it.
    pub roster: Roster,
    /// The epoch secret, before any chain is derived from it.
    pub secret: EpochSecret,
    /// This device's sending chain key and the counter of its next message:
    /// set only if the local device is in the roster (it takes the device's
    /// leaf of the secret tree, SPEC.md §8.8).
    pub own_chain: Option<(ChainKey, u64)>,
    /// When a later epoch superseded this one; `None` for the current epoch.
    pub superseded_at: Option<Timestamp>,
}

#[cfg(feature = "hazmat")]
impl Group {
    /// A state for `local` holding `epochs`, oldest first, the last one
    /// current (feature `hazmat`: test vectors, SPEC.md §10). An application
    /// never builds a group this way: it skips every check of a distribution.
    /// Refused when the epoch numbers do not ascend.
    ///
    /// ```
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::group::{EpochSecret, GracePolicy, Group, GroupId, Member, RawEpoch, Roster, Transcript};
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::registration::{ExpectedOwner, NoDirectory, RegistrationPolicy};
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
    /// let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// let alice = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
    /// let mut keys = DeviceKeys::generate(&mut rng, alice.clone());
    /// let bundle = keys.add_sealing_key(&mut rng, now, 86_400).verify(
    ///     &ExpectedOwner::Device(alice.clone()), &RegistrationPolicy::default(), now, None, &NoDirectory,
    /// )?;
    /// let epoch = |n: u64| RawEpoch {
    ///     epoch: n,
    ///     transcript: Transcript::from_bytes([n as u8; 32]),
    ///     roster: Roster::new(vec![Member::from_bundle(&bundle)]).unwrap(),
    ///     secret: EpochSecret::from_bytes([7; 32]),
    ///     own_chain: None,
    ///     superseded_at: None,
    /// };
    /// let (id, grace) = (GroupId::new("club")?, GracePolicy::default());
    /// let group = Group::hazmat_from_epochs(id.clone(), alice.clone(), grace, vec![epoch(4)]).unwrap();
    /// assert_eq!(group.current_epoch(), Some(4));
    /// assert!(Group::hazmat_from_epochs(id, alice, grace, vec![epoch(4), epoch(3)]).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hazmat_from_epochs(
        group_id: GroupId,
        local: DeviceAddress,
        grace: GracePolicy,
        epochs: Vec<RawEpoch>,
    ) -> Result<Self, &'static str> {
        let ascending = epochs.windows(2).all(|w| match w {
            [a, b] => a.epoch < b.epoch,
            _ => true,
        });
        if !ascending {
            return Err("epochs must be listed oldest first");
        }
        let mut group = Self::new(group_id, local, grace);
        for raw in epochs {
            let distributor = match raw.roster.member(0) {
                Some(first) => first.address(),
                None => return Err("an epoch's roster is empty"),
            };
            let mut epoch = Epoch::new(
                raw.epoch,
                raw.transcript,
                raw.roster,
                RosterPolicy::any_member(),
                distributor,
                raw.secret,
            );
            if let Some((key, next)) = raw.own_chain {
                epoch.set_own_chain(&group.local, key, next);
            }
            epoch.superseded_at = raw.superseded_at;
            group.epochs.push(epoch);
        }
        Ok(group)
    }

    /// The current epoch's secret (feature `hazmat`): for test vectors and
    /// for tests that play a hostile member. An application never needs it.
    #[cfg(feature = "hazmat")]
    /// `None` once a chain was derived from it (SPEC.md §8.8: the tree is split).
    pub fn hazmat_current_secret(&self) -> Option<EpochSecret> {
        self.current()
            .and_then(Epoch::secret)
            .map(|s| EpochSecret::from_bytes(*s.as_bytes()))
    }
}

fn expired(epoch: &Epoch, grace: GracePolicy, now: Timestamp) -> bool {
    match (epoch.superseded_at, grace.max_age_seconds) {
        (Some(at), Some(max_age)) => now.unix_seconds().saturating_sub(at.unix_seconds()) > max_age,
        _ => false,
    }
}

#[cfg(feature = "json-state")]
impl Serialize for Roster {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::serde_hex::serialize(self.as_bytes(), serializer)
    }
}

#[cfg(feature = "json-state")]
impl<'de> Deserialize<'de> for Roster {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = crate::serde_hex::deserialize_vec(deserializer)?;
        Self::from_bytes(&bytes).map_err(|_| serde::de::Error::custom("not a well-formed roster"))
    }
}
