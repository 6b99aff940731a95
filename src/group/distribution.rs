//! Epoch distributions (SPEC.md §8.5–8.7): a small signed core that names
//! the epoch by hashes, a roster section (full or a delta), and wraps; the
//! server's check, which alone yields a [`VerifiedDistribution`] to fan out
//! views from; and the checks members share with it.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use super::policy::{RosterPolicy, check_permission};
use super::roster::{GroupId, Roster, RosterDelta, RosterHash};
use super::schedule::{CONFIRMATION_LEN, EpochSecret, Transcript, wrap_list_hash};
use super::state::EpochChange;
use super::{GROUP_VERSION, GroupError, KIND_DISTRIBUTION};
use crate::codec::{DecodeError, Lp32, Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{IdentityPublicKey, IdentitySecretKey, SIGNATURE_LEN, Signature};
use crate::labels;

/// Form byte of a full roster section.
/// The largest wrap a distribution may carry: a pairwise message (SPEC.md
/// §7.3) with a 32-byte plaintext, its largest header (a session start and a
/// KEM step, 3,553 bytes) included, fits with room to spare.
pub const MAX_WRAP_LEN: usize = 4_096;

const SECTION_FULL: u8 = 0;
/// Form byte of a delta section.
const SECTION_DELTA: u8 = 1;

/// The fields of a distribution's signed core (SPEC.md §8.5), for building one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreFields {
    /// The group.
    pub group_id: GroupId,
    /// The new epoch (the previous one plus one; 1 for a new group).
    pub epoch: u64,
    /// The transcript of the previous epoch ([`Transcript::NONE`] for epoch 1).
    pub previous_transcript: Transcript,
    /// The hash of the new roster.
    pub roster_hash: RosterHash,
    /// Who may change the roster from this epoch on.
    pub policy: RosterPolicy,
    /// The member who made the epoch secret and signs.
    pub distributor: DeviceAddress,
    /// The distributor's identity key (verifies the signature).
    pub distributor_identity: [u8; 32],
    /// The hash of the wraps of every other member, in roster order.
    pub wrap_list_hash: [u8; 32],
}

impl CoreFields {
    /// The core without its last field, the confirmation.
    pub fn unconfirmed(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(160 + 2 * 255);
        w.u8(GROUP_VERSION);
        w.u8(KIND_DISTRIBUTION);
        self.group_id.encode(&mut w);
        w.u64(self.epoch);
        w.raw(self.previous_transcript.as_bytes());
        w.raw(self.roster_hash.as_bytes());
        self.policy.encode(&mut w);
        self.distributor.encode(&mut w);
        w.raw(&self.distributor_identity);
        w.raw(&self.wrap_list_hash);
        w.into_bytes()
    }

    /// The whole core: [`CoreFields::unconfirmed`] ‖ the confirmation of `secret`.
    pub fn confirmed(&self, secret: &EpochSecret) -> Vec<u8> {
        let mut core = self.unconfirmed();
        let confirmation = secret.confirmation(&core);
        core.extend_from_slice(&confirmation);
        core
    }
}

/// A decoded core, with the bytes it was decoded from (which the signature covers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistributionCore {
    bytes: Lp32<Vec<u8>>,
    fields: CoreFields,
    confirmation: [u8; CONFIRMATION_LEN],
}

impl DistributionCore {
    /// Strict decoding of a core (SPEC.md §8.5).
    pub fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != GROUP_VERSION {
            return Err(GroupError::UnsupportedVersion(version));
        }
        if r.u8()? != KIND_DISTRIBUTION {
            return Err(GroupError::Malformed(DecodeError::InvalidValue));
        }
        let group_id = GroupId::decode(&mut r)?;
        let epoch = r.u64()?;
        let previous_transcript = Transcript::from_bytes(r.array()?);
        let roster_hash = RosterHash::from_bytes(r.array()?);
        let policy = RosterPolicy::decode(&mut r)?;
        let distributor = DeviceAddress::decode(&mut r)?;
        let distributor_identity = r.array()?;
        let wrap_list_hash = r.array()?;
        let confirmation = r.array()?;
        r.finish()?;
        Ok(Self {
            bytes: Lp32::new(bytes.to_vec())
                .map_err(|_| GroupError::Malformed(DecodeError::InvalidLength))?,
            fields: CoreFields {
                group_id,
                epoch,
                previous_transcript,
                roster_hash,
                policy,
                distributor,
                distributor_identity,
                wrap_list_hash,
            },
            confirmation,
        })
    }

    /// The bytes, exactly as received or built.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_bytes()
    }

    /// The decoded fields.
    pub fn fields(&self) -> &CoreFields {
        &self.fields
    }

    /// The group.
    pub fn group_id(&self) -> &GroupId {
        &self.fields.group_id
    }

    /// The epoch.
    pub fn epoch(&self) -> u64 {
        self.fields.epoch
    }

    /// The distributor's address.
    pub fn distributor(&self) -> &DeviceAddress {
        &self.fields.distributor
    }

    /// The confirmation value (SPEC.md §8.3).
    pub fn confirmation(&self) -> &[u8; CONFIRMATION_LEN] {
        &self.confirmation
    }

    /// The core without the confirmation (what the confirmation covers).
    pub fn unconfirmed(&self) -> &[u8] {
        let bytes = self.as_bytes();
        bytes
            .get(..bytes.len().saturating_sub(CONFIRMATION_LEN))
            .unwrap_or_default()
    }

    /// `transcript(epoch)` (SPEC.md §8.3).
    pub fn transcript(&self) -> Transcript {
        Transcript::of_core(self.as_bytes())
    }

    /// The distributor's identity key, decoded (an invalid key can verify
    /// nothing: `BadSignature`).
    pub fn distributor_key(&self) -> Result<IdentityPublicKey, GroupError> {
        IdentityPublicKey::from_bytes(&self.fields.distributor_identity)
            .map_err(|_| GroupError::BadSignature)
    }

    /// `VerifyLabeled(key, "group distribution", core bytes, signature)`.
    pub(crate) fn verify_with(
        &self,
        key: &IdentityPublicKey,
        signature: &Signature,
    ) -> Result<(), GroupError> {
        key.verify_labeled(labels::sig::GROUP_DISTRIBUTION, self.as_bytes(), signature)
            .map_err(|_| GroupError::BadSignature)
    }

    /// Server and member check 5: `epoch ≥ 1`, and epoch 1 names no previous transcript.
    pub(crate) fn check_epoch_number(&self) -> Result<(), GroupError> {
        let f = &self.fields;
        if f.epoch == 0 || (f.epoch == 1 && f.previous_transcript != Transcript::NONE) {
            return Err(GroupError::InvalidEpoch);
        }
        Ok(())
    }
}

/// The roster part of a distribution: the whole new roster, or its delta
/// against the previous epoch's roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RosterSection {
    /// The whole roster (for a new group, and for members new to the group).
    Full(Roster),
    /// The change against the previous epoch's roster.
    Delta(RosterDelta),
}

/// A signed distribution: the core, its signature, a roster section and
/// wraps — every other member's (an upload) or one member's (a view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    core: DistributionCore,
    signature: Signature,
    section: RosterSection,
    // Shared: a verified upload keeps the decoded wraps without copying them
    // (a 5,000-member upload holds ~6.5 MB of wraps).
    wraps: Arc<[Wrap]>,
    /// `wraps.len()`, checked to fit its `u32` count when the distribution was built.
    wrap_count: u32,
}

/// One member's key wrap in a distribution: a pairwise message of 1 to [`MAX_WRAP_LEN`] bytes
/// (SPEC.md §8.4), checked when it is built, so every distribution encodes. Derefs to its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Wrap(Lp32<Vec<u8>>);

impl Wrap {
    /// Checks the length (1 to [`MAX_WRAP_LEN`] bytes, else
    /// `GroupError::Malformed(DecodeError::InvalidValue)`, as when decoding) and wraps the bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, GroupError> {
        if bytes.is_empty() || bytes.len() > MAX_WRAP_LEN {
            return Err(GroupError::Malformed(DecodeError::InvalidValue));
        }
        Lp32::new(bytes)
            .map(Self)
            .map_err(|_| GroupError::Malformed(DecodeError::InvalidValue))
    }

    /// The wrap's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Deref for Wrap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Wrap {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<Wrap> for Vec<u8> {
    fn from(wrap: Wrap) -> Vec<u8> {
        wrap.0.into_inner()
    }
}

impl fmt::Debug for Wrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Wrap({} bytes)", self.as_bytes().len())
    }
}

/// Checks each wrap ([`Wrap::new`]) and that their count fits its `u32`.
fn checked_wraps<W: Into<Vec<u8>>>(
    wraps: impl IntoIterator<Item = W>,
) -> Result<(Arc<[Wrap]>, u32), GroupError> {
    let wraps = wraps
        .into_iter()
        .map(|w| Wrap::new(w.into()))
        .collect::<Result<Vec<_>, _>>()?;
    let count = u32::try_from(wraps.len())
        .map_err(|_| GroupError::Malformed(DecodeError::InvalidLength))?;
    Ok((wraps.into(), count))
}

/// The previous epoch a distribution builds on (a member's current epoch or
/// the server's stored record).
pub(crate) struct Base<'a> {
    pub(crate) roster: &'a Roster,
    pub(crate) policy: &'a RosterPolicy,
}

/// What the roster checks produced.
pub(crate) struct Rebuilt {
    pub(crate) roster: Roster,
    /// The delta from the base (given, or computed for a full section).
    pub(crate) delta: Option<RosterDelta>,
    /// The change against the base (`None`: no base).
    pub(crate) change: Option<EpochChange>,
}

impl Distribution {
    /// Assembles a distribution from a decoded core and its parts. Each wrap is checked as
    /// [`Wrap::new`] does (1 to [`MAX_WRAP_LEN`] bytes), so the distribution always encodes.
    pub fn new<W: Into<Vec<u8>>>(
        core: DistributionCore,
        signature: Signature,
        section: RosterSection,
        wraps: impl IntoIterator<Item = W>,
    ) -> Result<Self, GroupError> {
        let (wraps, wrap_count) = checked_wraps(wraps)?;
        Ok(Self {
            core,
            signature,
            section,
            wraps,
            wrap_count,
        })
    }

    /// Signs `core` (any bytes: they are decoded first) with `identity` and
    /// attaches the parts. The signer is not checked against the core's
    /// distributor: a mismatch fails verification with `BadSignature`.
    pub fn sign<W: Into<Vec<u8>>>(
        core: &[u8],
        identity: &IdentitySecretKey,
        section: RosterSection,
        wraps: impl IntoIterator<Item = W>,
    ) -> Result<Self, GroupError> {
        let core = DistributionCore::decode(core)?;
        let signature = identity.sign_labeled(labels::sig::GROUP_DISTRIBUTION, core.as_bytes());
        Self::new(core, signature, section, wraps)
    }

    /// The signed core.
    pub fn core(&self) -> &DistributionCore {
        &self.core
    }

    /// The distributor's signature over the core.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The roster section.
    pub fn section(&self) -> &RosterSection {
        &self.section
    }

    /// The wraps carried (all other members', one member's, or none): each a
    /// pairwise message of at most [`MAX_WRAP_LEN`] bytes (SPEC.md §8.4).
    pub fn wraps(&self) -> &[Wrap] {
        &self.wraps
    }

    /// `lp32(core) ‖ signature ‖ section ‖ u32(k) ‖ k × lp32(wrap)` (SPEC.md §8.5).
    pub fn encode(&self) -> Vec<u8> {
        let section_len = match &self.section {
            RosterSection::Full(r) => r.as_bytes().len(),
            RosterSection::Delta(d) => d.as_bytes().len(),
        };
        let size = 4
            + self.core.as_bytes().len()
            + SIGNATURE_LEN
            + 1
            + section_len
            + 4
            + self.wraps.iter().map(|w| 4 + w.len()).sum::<usize>();
        let mut w = Writer::with_capacity(size);
        w.lp32(&self.core.bytes);
        w.raw(&self.signature.to_bytes());
        match &self.section {
            RosterSection::Full(r) => {
                w.u8(SECTION_FULL);
                w.raw(r.as_bytes());
            }
            RosterSection::Delta(d) => {
                w.u8(SECTION_DELTA);
                w.raw(d.as_bytes());
            }
        }
        w.u32(self.wrap_count);
        for wrap in self.wraps.iter() {
            w.lp32(&wrap.0);
        }
        w.into_bytes()
    }

    /// Strict decoding (SPEC.md §8.5); checks structure, not the signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let core_bytes = r.bytes_u32()?;
        let core = DistributionCore::decode(core_bytes)?;
        let signature = Signature::from_bytes(r.array::<SIGNATURE_LEN>()?);
        let section = match r.u8()? {
            SECTION_FULL => RosterSection::Full(Roster::decode(&mut r)?),
            SECTION_DELTA => RosterSection::Delta(RosterDelta::decode(&mut r)?),
            _ => return Err(GroupError::Malformed(DecodeError::InvalidValue)),
        };
        // Each wrap takes at least its 4-byte length: bound k before allocating.
        let wrap_count = r.u32()?;
        let k = usize::try_from(wrap_count)
            .ok()
            .filter(|k| k.saturating_mul(4) <= r.remaining())
            .ok_or(GroupError::Malformed(DecodeError::Truncated))?;
        let mut wraps = Vec::with_capacity(k);
        for _ in 0..k {
            let wrap = r.bytes_u32()?;
            if wrap.is_empty() || wrap.len() > MAX_WRAP_LEN {
                return Err(GroupError::Malformed(DecodeError::InvalidValue));
            }
            wraps.push(Wrap::new(wrap.to_vec())?);
        }
        r.finish()?;
        Ok(Self {
            core,
            signature,
            section,
            wraps: wraps.into(),
            wrap_count,
        })
    }

    /// Server and member checks 9–14 (SPEC.md §8.7): the distributor was a
    /// member of the base, the roster (rebuilt and hashed), the distributor
    /// is in it, the policy invariant and the permission. `permission` is
    /// false only for a member joining above epoch 1.
    pub(crate) fn check_roster(
        &self,
        base: Option<Base<'_>>,
        permission: bool,
    ) -> Result<Rebuilt, GroupError> {
        let f = &self.core.fields;
        let user = f.distributor.user.as_bytes();
        let device = f.distributor.device.get();
        if let Some(b) = &base {
            let previous = b
                .roster
                .search(user, device)
                .ok()
                .and_then(|i| b.roster.member(i));
            if previous.is_none_or(|m| *m.identity_key_bytes() != f.distributor_identity) {
                return Err(GroupError::NotPreviousMember);
            }
        }
        let (roster, delta) = match (&self.section, &base) {
            (RosterSection::Full(r), Some(b)) => (r.clone(), Some(b.roster.delta_to(r)?)),
            (RosterSection::Full(r), None) => (r.clone(), None),
            (RosterSection::Delta(d), Some(b)) => (b.roster.apply(d)?, Some(d.clone())),
            (RosterSection::Delta(_), None) => return Err(GroupError::DeltaWithoutBase),
        };
        if roster.hash(&f.group_id) != f.roster_hash {
            return Err(GroupError::RosterHashMismatch);
        }
        let listed = roster
            .search(user, device)
            .ok()
            .and_then(|i| roster.member(i));
        if listed.is_none_or(|m| *m.identity_key_bytes() != f.distributor_identity) {
            return Err(GroupError::DistributorNotMember);
        }
        if !f.policy.has_admin_member(&roster) {
            return Err(GroupError::NoAdminMember);
        }
        let change = match (&base, &delta) {
            (Some(b), Some(d)) => {
                let changes = d.changes(b.roster);
                if permission {
                    check_permission(Some((b.policy, &changes)), &f.policy, user)?;
                }
                Some(EpochChange::from_changes(f.epoch, &f.distributor, &changes))
            }
            _ => {
                if permission && f.epoch == 1 {
                    check_permission(None, &f.policy, user)?;
                }
                None
            }
        };
        Ok(Rebuilt {
            roster,
            delta,
            change,
        })
    }

    /// The wrap for the member at roster position `index` (not the
    /// distributor's): in an upload (`k = n − 1`) the one at its place among
    /// the non-distributors, in a view (`k = 1`) the only one.
    pub(crate) fn wrap_at(&self, roster: &Roster, index: usize) -> Option<&[u8]> {
        let distributor = roster.position(&self.core.fields.distributor)?;
        if index == distributor {
            return None;
        }
        if self.wraps.len() == roster.len().saturating_sub(1) {
            let i = if index > distributor {
                index - 1
            } else {
                index
            };
            self.wraps.get(i).map(Wrap::as_bytes)
        } else if let [only] = &self.wraps[..] {
            Some(only.as_bytes())
        } else {
            None
        }
    }

    /// The server's check (SPEC.md §8.7): no secret involved. `previous` is
    /// the record stored for the group's current epoch (none for a new
    /// group), `uploader` the device the server authenticated.
    ///
    /// ```
    /// use letterseal::group::{GroupError, RosterSection, ServerRecord};
    /// # use std::collections::BTreeMap;
    /// # use letterseal::device::DeviceKeys;
    /// # use letterseal::group::{GracePolicy, Group, GroupId};
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([11; 32]);
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
    /// # let mut at_alice = Group::new(GroupId::new("book club").unwrap(), alice.address().clone(), GracePolicy::default());
    /// # let mut sessions = BTreeMap::new();
    /// # let upload = at_alice.propose(&mut rng, &alice, &[alice_b.clone(), bob_b.clone()], None, &mut sessions, now).unwrap().upload;
    /// // Epoch 1: Alice created the group with Bob. The server has no record yet.
    /// let verified = upload.verify_for_server(None, alice.address()).unwrap();
    /// assert_eq!(verified.epoch(), 1);
    /// let stored: Vec<u8> = verified.record().encode(); // the server persists this
    /// let _for_bob = verified.view_for(bob.address()).unwrap(); // and sends Bob his view
    /// at_alice.commit(now).unwrap(); // Alice hears that the server accepted it
    ///
    /// // Epoch 2: Alice adds Carol; the server checks the upload against its record.
    /// let members = [alice_b, bob_b, carol_b];
    /// let upload = at_alice.propose(&mut rng, &alice, &members, None, &mut sessions, now).unwrap().upload;
    /// let previous = ServerRecord::decode(&stored).unwrap();
    /// // Only the distributor's own device may upload it.
    /// assert_eq!(
    ///     upload.verify_for_server(Some(&previous), bob.address()).unwrap_err(),
    ///     GroupError::UploaderMismatch
    /// );
    /// let verified = upload.verify_for_server(Some(&previous), alice.address()).unwrap();
    /// assert_eq!(verified.roster().len(), 3);
    /// let current = verified.record();
    ///
    /// // Fan-out: Bob (a member already) gets the change as a delta, Carol (new) the full roster.
    /// assert!(matches!(verified.view_for(bob.address()).unwrap().section(), RosterSection::Delta(_)));
    /// assert!(matches!(verified.view_for(carol.address()).unwrap().section(), RosterSection::Full(_)));
    ///
    /// // A replayed upload is stale against the new record; a skipped epoch is a gap.
    /// assert_eq!(upload.verify_for_server(Some(&current), alice.address()).unwrap_err(), GroupError::StaleEpoch);
    /// assert_eq!(upload.verify_for_server(None, alice.address()).unwrap_err(), GroupError::EpochGap);
    /// ```
    pub fn verify_for_server(
        &self,
        previous: Option<&ServerRecord>,
        uploader: &DeviceAddress,
    ) -> Result<VerifiedDistribution, GroupError> {
        let f = &self.core.fields;
        let key = self.core.distributor_key()?;
        self.core.verify_with(&key, &self.signature)?;
        if *uploader != f.distributor {
            return Err(GroupError::UploaderMismatch);
        }
        self.core.check_epoch_number()?;
        let base = match previous {
            None => {
                if f.epoch != 1 {
                    return Err(GroupError::EpochGap);
                }
                None
            }
            Some(record) => {
                if record.group_id != f.group_id {
                    return Err(GroupError::WrongGroup);
                }
                if f.epoch <= record.epoch {
                    return Err(GroupError::StaleEpoch);
                }
                if record.epoch.checked_add(1) != Some(f.epoch) {
                    return Err(GroupError::EpochGap);
                }
                if f.previous_transcript != record.transcript {
                    return Err(GroupError::ForkedHistory);
                }
                Some(Base {
                    roster: &record.roster,
                    policy: &record.policy,
                })
            }
        };
        let rebuilt = self.check_roster(base, true)?;
        if self.wraps.len() != rebuilt.roster.len().saturating_sub(1) {
            return Err(GroupError::WrapListMismatch);
        }
        if wrap_list_hash(&self.wraps) != f.wrap_list_hash {
            return Err(GroupError::WrapListHashMismatch);
        }
        Ok(VerifiedDistribution {
            distribution: self.clone(),
            roster: rebuilt.roster,
            delta: rebuilt.delta,
            joined: rebuilt.change.map(|c| c.joined).unwrap_or_default(),
        })
    }
}

/// A distribution the server's check accepted, with its rebuilt roster: the
/// only input from which views and the new stored record are made.
#[derive(Clone, Debug)]
pub struct VerifiedDistribution {
    distribution: Distribution,
    roster: Roster,
    delta: Option<RosterDelta>,
    /// Members new to the group (ascending), who get the full roster.
    joined: Vec<DeviceAddress>,
}

impl VerifiedDistribution {
    /// The verified upload.
    pub fn distribution(&self) -> &Distribution {
        &self.distribution
    }

    /// The new epoch.
    pub fn epoch(&self) -> u64 {
        self.distribution.core.fields.epoch
    }

    /// The new roster.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The record the server stores for the group from now on.
    ///
    /// ```
    /// use letterseal::group::ServerRecord;
    /// # use std::collections::BTreeMap;
    /// # use letterseal::device::DeviceKeys;
    /// # use letterseal::group::{GracePolicy, Group, GroupId};
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([11; 32]);
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
    /// # let mut at_alice = Group::new(GroupId::new("book club").unwrap(), alice.address().clone(), GracePolicy::default());
    /// # let mut sessions = BTreeMap::new();
    /// # let upload = at_alice.propose(&mut rng, &alice, &[alice_b.clone(), bob_b.clone()], None, &mut sessions, now).unwrap().upload;
    /// let verified = upload.verify_for_server(None, alice.address()).unwrap();
    /// let record: ServerRecord = verified.record();
    /// assert_eq!((record.epoch, &record.roster), (1, verified.roster()));
    /// // Stored as bytes between uploads; decoding is strict.
    /// let stored = record.encode();
    /// assert_eq!(ServerRecord::decode(&stored).unwrap(), record);
    /// assert!(ServerRecord::decode(&stored[..stored.len() - 1]).is_err());
    /// ```
    pub fn record(&self) -> ServerRecord {
        let f = &self.distribution.core.fields;
        ServerRecord {
            group_id: f.group_id.clone(),
            epoch: f.epoch,
            transcript: self.distribution.core.transcript(),
            roster: self.roster.clone(),
            policy: f.policy.clone(),
        }
    }

    /// The view for one member of the new roster (SPEC.md §8.5): a delta for
    /// a member of the previous epoch, the full roster for a new one, and its
    /// wrap (none for the distributor). `None` if it is not a member.
    ///
    /// ```
    /// use letterseal::group::Processed;
    /// use letterseal::pairwise::Session;
    /// # use std::collections::BTreeMap;
    /// # use letterseal::device::DeviceKeys;
    /// # use letterseal::group::{GracePolicy, Group, GroupId};
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([11; 32]);
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
    /// # let mut at_alice = Group::new(GroupId::new("book club").unwrap(), alice.address().clone(), GracePolicy::default());
    /// # let mut sessions = BTreeMap::new();
    /// # let upload = at_alice.propose(&mut rng, &alice, &[alice_b.clone(), bob_b.clone()], None, &mut sessions, now).unwrap().upload;
    /// let verified = upload.verify_for_server(None, alice.address()).unwrap();
    /// // One view per member of the new roster, each with that member's wrap only.
    /// for member in verified.roster().iter() {
    ///     let view = verified.view_for(&member.address()).unwrap();
    ///     let expected_wraps = if member.is(alice.address()) { 0 } else { 1 };
    ///     assert_eq!(view.wraps().len(), expected_wraps);
    /// }
    /// assert!(verified.view_for(carol.address()).is_none()); // not a member
    ///
    /// // Bob processes his view with his pairwise session with Alice.
    /// let for_bob = verified.view_for(bob.address()).unwrap();
    /// let mut bob = bob;
    /// let mut bob_sessions = BTreeMap::new();
    /// bob_sessions.insert(alice.address().clone(), Session::new(&bob, &alice_b).unwrap());
    /// let mut at_bob = Group::new(GroupId::new("book club").unwrap(), bob.address().clone(), GracePolicy::default());
    /// let done = at_bob.process(&mut bob, &for_bob, &mut bob_sessions, now).unwrap();
    /// assert!(matches!(done, Processed::Installed { .. }));
    /// ```
    pub fn view_for(&self, member: &DeviceAddress) -> Option<Distribution> {
        let new_member = self.joined.binary_search(member).is_ok();
        self.view(member, self.delta.is_none() || new_member)
    }

    /// The view for one member with the full roster (for a member that lost
    /// its state, or any new member).
    pub fn full_view_for(&self, member: &DeviceAddress) -> Option<Distribution> {
        self.view(member, true)
    }

    fn view(&self, member: &DeviceAddress, full: bool) -> Option<Distribution> {
        let index = self.roster.position(member)?;
        let d = &self.distribution;
        let distributor = self.roster.position(&d.core.fields.distributor)?;
        let (wraps, wrap_count) = if index == distributor {
            (Vec::new(), 0)
        } else {
            let i = if index > distributor {
                index - 1
            } else {
                index
            };
            (alloc::vec![d.wraps.get(i)?.clone()], 1)
        };
        let section = match (&self.delta, full) {
            (Some(delta), false) => RosterSection::Delta(delta.clone()),
            _ => RosterSection::Full(self.roster.clone()),
        };
        // The wraps were checked when the upload was built or decoded.
        Some(Distribution {
            core: d.core.clone(),
            signature: d.signature,
            section,
            wraps: wraps.into(),
            wrap_count,
        })
    }
}

/// What a server stores per group between uploads: the current epoch, its
/// transcript, roster and policy. No secret.
///
/// The server keeps one per group: it is `previous` for the next
/// [`Distribution::verify_for_server`], and [`VerifiedDistribution::record`]
/// gives the one to store after an accepted upload (see the walkthrough on
/// [`Distribution::verify_for_server`]).
///
/// ```
/// use letterseal::group::{GroupError, ServerRecord};
/// # use std::collections::BTreeMap;
/// # use letterseal::device::DeviceKeys;
/// # use letterseal::group::{GracePolicy, Group, GroupId};
/// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
/// # use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([11; 32]);
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
/// # let mut at_alice = Group::new(GroupId::new("book club").unwrap(), alice.address().clone(), GracePolicy::default());
/// # let mut sessions = BTreeMap::new();
/// # let upload = at_alice.propose(&mut rng, &alice, &[alice_b.clone(), bob_b.clone()], None, &mut sessions, now).unwrap().upload;
/// let record = upload.verify_for_server(None, alice.address()).unwrap().record();
/// let stored = record.encode();
/// assert_eq!(ServerRecord::decode(&stored).unwrap(), record);
///
/// // A record of another format version is refused, not misread.
/// let mut other = stored.clone();
/// other[0] = 9;
/// assert_eq!(ServerRecord::decode(&other).unwrap_err(), GroupError::UnsupportedVersion(9));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerRecord {
    /// The group.
    pub group_id: GroupId,
    /// The current epoch.
    pub epoch: u64,
    /// Its transcript.
    pub transcript: Transcript,
    /// Its roster.
    pub roster: Roster,
    /// Its policy.
    pub policy: RosterPolicy,
}

/// Version byte of a stored server record.
const RECORD_VERSION: u8 = 1;

impl ServerRecord {
    /// `u8(1) ‖ lp8(group id) ‖ u64(epoch) ‖ transcript ‖ policy ‖ roster`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64 + self.roster.as_bytes().len());
        w.u8(RECORD_VERSION);
        self.group_id.encode(&mut w);
        w.u64(self.epoch);
        w.raw(self.transcript.as_bytes());
        self.policy.encode(&mut w);
        w.raw(self.roster.as_bytes());
        w.into_bytes()
    }

    /// Strict decoding of [`ServerRecord::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != RECORD_VERSION {
            return Err(GroupError::UnsupportedVersion(version));
        }
        let group_id = GroupId::decode(&mut r)?;
        let epoch = r.u64()?;
        let transcript = Transcript::from_bytes(r.array()?);
        let policy = RosterPolicy::decode(&mut r)?;
        let roster = Roster::decode(&mut r)?;
        r.finish()?;
        Ok(Self {
            group_id,
            epoch,
            transcript,
            roster,
            policy,
        })
    }
}
