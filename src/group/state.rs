//! A member device's view of one group (SPEC.md §8.4–8.7).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
#[cfg(feature = "json-state")]
use serde::Deserializer;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::distribution::{Distribution, DistributionCore, wrap_associated_data, wrap_digest};
use super::message::{EpochSecret, GroupHeader, sender_chain};
use super::roster::{GroupId, Roster, RosterHash};
use super::{GroupError, GroupOpenError, GroupSealError};
use crate::aead::{self, TAG_LEN};
use crate::codec::{DecodeError, Reader};
use crate::device::DeviceKeys;
use crate::ids::DeviceAddress;
use crate::keys::{SIGNATURE_LEN, Signature};
use crate::labels;
use crate::pairwise::{ContentType, ReplayWindow, SALT_LEN, Session, WindowError};
use crate::registration::VerifiedBundle;
use crate::time::Timestamp;

/// Version of the serialized group state.
pub const GROUP_STATE_VERSION: u32 = 1;

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

/// What a new epoch changed, for the application to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochChange {
    /// The new epoch.
    pub epoch: u64,
    /// Who made it.
    pub distributor: DeviceAddress,
    /// Devices that joined.
    pub joined: Vec<DeviceAddress>,
    /// Devices that left.
    pub left: Vec<DeviceAddress>,
    /// Devices that stayed but changed their identity or sealing key.
    pub rekeyed: Vec<DeviceAddress>,
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

#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct SenderWindow {
    sender: DeviceAddress,
    window: ReplayWindow,
}

#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct Epoch {
    epoch: u64,
    roster: Roster,
    roster_hash: RosterHash,
    // Kept for the saved state; read only by its JSON form.
    #[cfg_attr(not(feature = "json-state"), allow(dead_code))]
    distributor: DeviceAddress,
    secret: EpochSecret,
    next_counter: u64,
    /// Sorted by sender; created when a sender's first message opens.
    #[cfg_attr(feature = "json-state", serde(deserialize_with = "sorted_windows"))]
    windows: Vec<SenderWindow>,
    #[cfg_attr(
        feature = "json-state",
        serde(deserialize_with = "Option::deserialize")
    )]
    superseded_at: Option<Timestamp>,
}

/// Sender windows are looked up by binary search: refuse any order but
/// strictly ascending senders (a reordered list would hide a window).
#[cfg(feature = "json-state")]
fn sorted_windows<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SenderWindow>, D::Error> {
    let windows = Vec::<SenderWindow>::deserialize(d)?;
    let ascending = windows.windows(2).all(|pair| match pair {
        [a, b] => a.sender < b.sender,
        _ => true,
    });
    if ascending {
        Ok(windows)
    } else {
        Err(serde::de::Error::custom(
            "windows must be sorted by sender, without repeats",
        ))
    }
}

/// Epochs must be strictly ascending, with only the last one current.
#[cfg(feature = "json-state")]
fn ordered_epochs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Epoch>, D::Error> {
    let epochs = Vec::<Epoch>::deserialize(d)?;
    let ascending = epochs.windows(2).all(|pair| match pair {
        [a, b] => a.epoch < b.epoch && a.superseded_at.is_some(),
        _ => true,
    });
    let current_live = epochs.last().is_none_or(|e| e.superseded_at.is_none());
    if ascending && current_live {
        Ok(epochs)
    } else {
        Err(serde::de::Error::custom(
            "epochs must ascend; all but the last superseded, the last not",
        ))
    }
}

impl Epoch {
    fn window(&self, sender: &DeviceAddress) -> Option<&ReplayWindow> {
        self.windows
            .binary_search_by(|w| w.sender.cmp(sender))
            .ok()
            .and_then(|i| self.windows.get(i))
            .map(|w| &w.window)
    }

    fn accept(&mut self, sender: &DeviceAddress, counter: u64) {
        match self.windows.binary_search_by(|w| w.sender.cmp(sender)) {
            Ok(i) => {
                if let Some(w) = self.windows.get_mut(i) {
                    w.window.accept(counter);
                }
            }
            Err(i) => {
                let mut window = ReplayWindow::default();
                window.accept(counter);
                self.windows.insert(
                    i,
                    SenderWindow {
                        sender: sender.clone(),
                        window,
                    },
                );
            }
        }
    }
}

/// One device's state of one group: the current epoch and the superseded ones
/// still in their grace period. Serializes (serde, feature `json-state`) with a
/// version; the serialized form contains epoch secrets.
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
pub struct Group {
    #[cfg_attr(
        feature = "json-state",
        serde(deserialize_with = "expect_state_version")
    )]
    #[cfg_attr(not(feature = "json-state"), allow(dead_code))]
    version: u32,
    group_id: GroupId,
    local: DeviceAddress,
    grace: GracePolicy,
    /// Ascending by epoch; the last is current.
    #[cfg_attr(feature = "json-state", serde(deserialize_with = "ordered_epochs"))]
    epochs: Vec<Epoch>,
}

#[cfg(feature = "json-state")]
fn expect_state_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(d)?;
    if version == GROUP_STATE_VERSION {
        Ok(version)
    } else {
        Err(serde::de::Error::custom(alloc::format!(
            "unsupported group state version {version}"
        )))
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
            .finish_non_exhaustive()
    }
}

impl Group {
    /// A device's state for a group it has no epoch of yet.
    pub fn new(group_id: GroupId, local: DeviceAddress, grace: GracePolicy) -> Self {
        Self {
            version: GROUP_STATE_VERSION,
            group_id,
            local,
            grace,
            epochs: Vec::new(),
        }
    }

    /// The group.
    pub fn group_id(&self) -> &GroupId {
        &self.group_id
    }

    /// The current epoch number.
    pub fn current_epoch(&self) -> Option<u64> {
        self.epochs.last().map(|e| e.epoch)
    }

    /// The current roster.
    pub fn roster(&self) -> Option<&Roster> {
        self.epochs.last().map(|e| &e.roster)
    }

    /// Epoch numbers still openable, oldest first.
    pub fn openable_epochs(&self) -> Vec<u64> {
        self.epochs.iter().map(|e| e.epoch).collect()
    }

    /// Starts a new epoch with `members` as its roster (SPEC.md §8.2): draws a
    /// fresh secret, wraps it over the pairwise session with every other
    /// member (creating missing sessions from the bundles: one X25519 each),
    /// signs, installs the epoch locally and returns the distribution for the
    /// server. Any membership change or rotation is such a new epoch.
    pub fn distribute<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        device: &DeviceKeys,
        members: &[VerifiedBundle],
        sessions: &mut BTreeMap<DeviceAddress, Session>,
        now: Timestamp,
    ) -> Result<(Distribution, EpochChange), GroupError> {
        if *device.address() != self.local {
            return Err(GroupError::WrongDevice);
        }
        let roster = Roster::from_bundles(members)?;
        let me = roster
            .get(&self.local)
            .ok_or(GroupError::DistributorNotMember)?;
        if me.identity_key != device.identity().public_key() {
            return Err(GroupError::DistributorNotMember);
        }
        let previous_epoch = self.current_epoch().unwrap_or(0);
        let epoch = previous_epoch
            .checked_add(1)
            .ok_or(GroupError::InvalidEpoch)?;
        let roster_hash = roster.hash(&self.group_id);
        let mut secret = EpochSecret([0u8; 32]);
        rng.fill_bytes(&mut secret.0);
        let ad = wrap_associated_data(&self.group_id, epoch, &roster_hash);

        // Build every wrap before touching any state, so a failure changes nothing
        // but the sessions' counters of wraps already sealed.
        let mut entries = Vec::with_capacity(roster.len().saturating_sub(1));
        for bundle in members.iter().filter(|b| *b.owner() != self.local) {
            if !sessions.contains_key(bundle.owner()) {
                sessions.insert(
                    bundle.owner().clone(),
                    Session::new(device, bundle).map_err(GroupError::Session)?,
                );
            }
            let session = sessions.get_mut(bundle.owner()).ok_or(GroupError::Session(
                crate::pairwise::SessionError::PeerMismatch,
            ))?;
            if session.peer_current_key_id() != bundle.sealing_key_id() {
                session
                    .add_peer_bundle(bundle)
                    .map_err(GroupError::Session)?;
            }
            let wrap = session
                .seal(
                    device,
                    rng,
                    now,
                    ContentType::GroupKey,
                    secret.as_bytes(),
                    &ad,
                )
                .map_err(GroupError::Seal)?;
            let digest = wrap_digest(&wrap);
            entries.push((bundle.owner().clone(), digest, wrap));
        }
        // Wraps in roster order (members may be given in any order; sorted
        // input is one run for the stable sort). Moved, not cloned.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut wrap_digests = Vec::with_capacity(entries.len());
        let mut wraps = Vec::with_capacity(entries.len());
        for (address, digest, wrap) in entries {
            wrap_digests.push((address, digest));
            wraps.push(wrap);
        }

        let core = DistributionCore {
            group_id: self.group_id.clone(),
            epoch,
            previous_epoch,
            roster_hash,
            distributor: self.local.clone(),
            roster: roster.clone(),
            wrap_digests,
        };
        let distribution = Distribution::sign(core, wraps, device.identity());
        let change = self.install(epoch, roster, roster_hash, self.local.clone(), secret, now);
        Ok((distribution, change))
    }

    /// Processes a distribution received from the server (SPEC.md §8.4), with
    /// the pairwise session to its distributor. On success the new epoch is
    /// current; on failure nothing changed.
    pub fn process(
        &mut self,
        device: &DeviceKeys,
        distribution: &Distribution,
        session: &mut Session,
        now: Timestamp,
    ) -> Result<EpochChange, GroupError> {
        if *device.address() != self.local {
            return Err(GroupError::WrongDevice);
        }
        let core = distribution.core();
        if core.group_id != self.group_id {
            return Err(GroupError::WrongGroup);
        }
        core.check(distribution.signature())?;
        let distributor = core
            .roster
            .get(&core.distributor)
            .ok_or(GroupError::DistributorNotMember)?;
        if *session.peer() != core.distributor
            || *session.peer_identity_key() != distributor.identity_key
        {
            return Err(GroupError::DistributorMismatch);
        }
        let me = core.roster.get(&self.local).ok_or(GroupError::NotAMember)?;
        if me.identity_key != device.identity().public_key()
            || device.sealing_key(&me.sealing_key_id).is_none()
        {
            return Err(GroupError::NotAMember);
        }
        if self
            .current_epoch()
            .is_some_and(|current| core.epoch <= current)
        {
            return Err(GroupError::StaleEpoch);
        }
        let digest = core
            .digest_for(&self.local)
            .ok_or(GroupError::MissingWrap)?;
        let wrap = distribution
            .wrap_for(&self.local)
            .ok_or(GroupError::MissingWrap)?;
        if wrap_digest(wrap) != *digest {
            return Err(GroupError::WrapMismatch);
        }
        let ad = wrap_associated_data(&core.group_id, core.epoch, &core.roster_hash);
        let opened = session
            .open(device, now, wrap, &ad)
            .map_err(GroupError::WrapRejected)?;
        let secret: [u8; 32] = match (opened.content_type, opened.plaintext.as_slice().try_into()) {
            (ContentType::GroupKey, Ok(bytes)) => bytes,
            _ => return Err(GroupError::InvalidWrap),
        };
        Ok(self.install(
            core.epoch,
            core.roster.clone(),
            core.roster_hash,
            core.distributor.clone(),
            EpochSecret(secret),
            now,
        ))
    }

    fn install(
        &mut self,
        epoch: u64,
        roster: Roster,
        roster_hash: RosterHash,
        distributor: DeviceAddress,
        secret: EpochSecret,
        now: Timestamp,
    ) -> EpochChange {
        let change = match self.epochs.last() {
            None => EpochChange {
                epoch,
                distributor: distributor.clone(),
                joined: roster.members().iter().map(|m| m.address.clone()).collect(),
                left: Vec::new(),
                rekeyed: Vec::new(),
            },
            Some(old) => diff(epoch, &distributor, &old.roster, &roster),
        };
        if let Some(old) = self.epochs.last_mut() {
            old.superseded_at = Some(now);
        }
        self.epochs.push(Epoch {
            epoch,
            roster,
            roster_hash,
            distributor,
            secret,
            next_counter: 0,
            windows: Vec::new(),
            superseded_at: None,
        });
        self.expire(now);
        change
    }

    /// Deletes superseded epochs whose grace period is over (SPEC.md §8.7).
    pub fn expire(&mut self, now: Timestamp) {
        let keep = usize::try_from(self.grace.previous_epochs).unwrap_or(usize::MAX);
        let excess = self.epochs.len().saturating_sub(keep.saturating_add(1));
        self.epochs.drain(..excess);
        let grace = self.grace;
        self.epochs.retain(|e| !expired(e, grace, now));
    }

    /// Seals a message to the group in the current epoch (SPEC.md §8.5):
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
        if me.identity_key != device.identity().public_key() {
            return Err(GroupSealError::WrongDevice);
        }
        let counter = epoch.next_counter;
        if counter == u64::MAX {
            return Err(GroupSealError::CounterExhausted);
        }
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let mut header = GroupHeader {
            content_type,
            group_id: group_id.clone(),
            epoch: epoch.epoch,
            sender: self.local.clone(),
            counter,
            salt,
            commitment: [0; 32],
        };
        let chain = sender_chain(
            &epoch.secret,
            &group_id,
            epoch.epoch,
            &epoch.roster_hash,
            &me.address,
            &me.identity_key,
        );
        let keys = chain.message_keys(&header.salt, &header.bound_fields());
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
        epoch.next_counter = counter + 1;
        Ok(out)
    }

    /// Opens a group message (SPEC.md §8.6). Checks, in order: format, group,
    /// epoch (known and within its grace period at `now`), sender in that
    /// epoch's roster, not our own, the sender's signature, its replay window,
    /// the key commitment and the AEAD tag. A failure changes nothing.
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
        let signed_len = sealed
            .len()
            .checked_sub(SIGNATURE_LEN)
            .filter(|&n| n >= header_len + TAG_LEN)
            .ok_or(GroupOpenError::Malformed(DecodeError::Truncated))?;
        let (signed, signature) = sealed.split_at(signed_len);
        let signature: [u8; SIGNATURE_LEN] = signature
            .try_into()
            .map_err(|_| GroupOpenError::Malformed(DecodeError::Truncated))?;
        let (head, body) = signed.split_at(header_len);
        let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
        let tag: [u8; TAG_LEN] = tag
            .try_into()
            .map_err(|_| GroupOpenError::Malformed(DecodeError::Truncated))?;

        if header.group_id != self.group_id {
            return Err(GroupOpenError::WrongGroup);
        }
        let grace = self.grace;
        let epoch = self
            .epochs
            .iter_mut()
            .find(|e| e.epoch == header.epoch)
            .ok_or(GroupOpenError::UnknownEpoch(header.epoch))?;
        if expired(epoch, grace, now) {
            return Err(GroupOpenError::EpochExpired(header.epoch));
        }
        let sender = epoch
            .roster
            .get(&header.sender)
            .ok_or(GroupOpenError::UnknownSender)?;
        if header.sender == self.local {
            return Err(GroupOpenError::OwnMessage);
        }
        sender
            .identity_key
            .verify_labeled(
                labels::sig::GROUP_MESSAGE,
                signed,
                &Signature::from_bytes(signature),
            )
            .map_err(|_| GroupOpenError::BadSignature)?;
        let counter = header.counter;
        let delivery = match epoch.window(&header.sender) {
            Some(window) => window.check(counter),
            None => ReplayWindow::default().check(counter),
        }
        .map_err(|e| match e {
            WindowError::Replay => GroupOpenError::Replay { counter },
            WindowError::TooOld => GroupOpenError::TooOld { counter },
        })?;
        let chain = sender_chain(
            &epoch.secret,
            &self.group_id,
            epoch.epoch,
            &epoch.roster_hash,
            &sender.address,
            &sender.identity_key,
        );
        let keys = chain.message_keys(&header.salt, &header.bound_fields());
        if !keys.commitment_matches(&header.commitment) {
            return Err(GroupOpenError::CommitmentMismatch);
        }
        let aad = aead::header_and_associated(head, associated_data);
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        aead::open_in_place_detached(&keys.aead_key, &keys.nonce, &aad, &mut plaintext, &tag)
            .map_err(|_| GroupOpenError::AuthenticationFailed)?;
        epoch.accept(&header.sender, counter);
        Ok(GroupOpened {
            sender: header.sender,
            epoch: header.epoch,
            content_type: header.content_type,
            plaintext,
            counter,
            skipped: delivery.skipped,
            late: delivery.late,
        })
    }
}

fn expired(epoch: &Epoch, grace: GracePolicy, now: Timestamp) -> bool {
    match (epoch.superseded_at, grace.max_age_seconds) {
        (Some(at), Some(max_age)) => now.unix_seconds().saturating_sub(at.unix_seconds()) > max_age,
        _ => false,
    }
}

fn diff(epoch: u64, distributor: &DeviceAddress, old: &Roster, new: &Roster) -> EpochChange {
    use core::cmp::Ordering;
    // One merge walk over the two rosters (both sorted by address).
    let (mut joined, mut left, mut rekeyed) = (Vec::new(), Vec::new(), Vec::new());
    let mut o = old.members().iter().peekable();
    let mut n = new.members().iter().peekable();
    loop {
        match (o.peek(), n.peek()) {
            (Some(a), Some(b)) => match a.address.cmp(&b.address) {
                Ordering::Less => {
                    left.push(a.address.clone());
                    o.next();
                }
                Ordering::Greater => {
                    joined.push(b.address.clone());
                    n.next();
                }
                Ordering::Equal => {
                    if a != b {
                        rekeyed.push(b.address.clone());
                    }
                    o.next();
                    n.next();
                }
            },
            (Some(a), None) => {
                left.push(a.address.clone());
                o.next();
            }
            (None, Some(b)) => {
                joined.push(b.address.clone());
                n.next();
            }
            (None, None) => break,
        }
    }
    EpochChange {
        epoch,
        distributor: distributor.clone(),
        joined,
        left,
        rekeyed,
    }
}
