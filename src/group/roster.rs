//! Group ids, members, rosters and roster deltas (SPEC.md §8.1, §8.5).
//!
//! A [`Roster`] is its encoding plus one offset per member: decoding walks
//! the bytes once (lengths and order) and allocates nothing per member;
//! members are read in place as [`MemberRef`]s. Keys are validated where
//! they are used (SPEC.md §8.1), not when a roster is received.

use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::GroupError;
use crate::codec::{DecodeError, Lp8, Reader, Writer};
use crate::ids::{DeviceAddress, DeviceId, UserId};
use crate::kdf::derive_labeled;
use crate::keys::{IdentityPublicKey, KeyError, SealingKeyId, SealingPublicKey};
use crate::labels;
use crate::registration::VerifiedBundle;

/// Longest group id in bytes.
pub const MAX_GROUP_ID_LEN: usize = 255;
// A group id is written with a `u8` length prefix (`Lp8`), which holds exactly this much.
const _: () = assert!(MAX_GROUP_ID_LEN == u8::MAX as usize);

/// Bytes of a member after its user id: device id, identity key, sealing key, key id.
const MEMBER_TAIL_LEN: usize = 4 + 32 + 32 + 16;
/// The shortest member encoding (a one-byte user id).
const MIN_MEMBER_LEN: usize = 1 + 1 + MEMBER_TAIL_LEN;
/// The shortest address encoding.
const MIN_ADDRESS_LEN: usize = 1 + 1 + 4;

/// A group id chosen by the application: 1 to 255 opaque bytes.
///
/// ```
/// use letterseal::group::{GroupError, GroupId};
///
/// let club = GroupId::new("book club")?;
/// assert_eq!(club.as_bytes(), b"book club");
/// assert_eq!(GroupId::new(""), Err(GroupError::InvalidGroupId));
/// assert_eq!(GroupId::new([0u8; 256]), Err(GroupError::InvalidGroupId));
/// # Ok::<(), GroupError>(())
/// ```
///
/// [`Account::create_group`](crate::account::Account::create_group) takes one.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(Lp8<Vec<u8>>);

impl GroupId {
    /// Checks the length and wraps the bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, GroupError> {
        let bytes = bytes.as_ref();
        if bytes.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        Lp8::new(bytes.to_vec())
            .map(Self)
            .map_err(|_| GroupError::InvalidGroupId)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.lp8(&self.0);
    }

    /// Reads `lp8(id)` (SPEC.md §8.1), refusing an empty id.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = r.lp8()?;
        if bytes.as_bytes().is_empty() {
            return Err(DecodeError::InvalidLength);
        }
        Ok(Self(bytes.to_owned()))
    }
}

impl Serialize for GroupId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::serde_hex::serialize(self.as_bytes(), serializer)
    }
}

impl<'de> Deserialize<'de> for GroupId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = crate::serde_hex::deserialize_vec(deserializer)?;
        Self::new(bytes).map_err(|_| serde::de::Error::custom("group id must be 1..=255 bytes"))
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupId(")?;
        crate::keys::write_hex(f, self.as_bytes())?;
        f.write_str(")")
    }
}

/// The order of SPEC.md §8.1: user id bytes (a proper prefix first), then device id.
pub(crate) fn cmp_address(a_user: &[u8], a_device: u32, b_user: &[u8], b_device: u32) -> Ordering {
    a_user.cmp(b_user).then(a_device.cmp(&b_device))
}

/// One member device of a group with validated keys, as a distributor puts
/// it into a roster it builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The device.
    pub address: DeviceAddress,
    /// Its identity key (verifies its group messages).
    pub identity_key: IdentityPublicKey,
    /// Its sealing key (receives its wrap).
    pub sealing_key: SealingPublicKey,
    /// The sealing key's id.
    pub sealing_key_id: SealingKeyId,
}

impl Member {
    /// The member described by a verified bundle.
    pub fn from_bundle(bundle: &VerifiedBundle) -> Self {
        Self {
            address: bundle.owner().clone(),
            identity_key: *bundle.identity_key(),
            sealing_key: *bundle.sealing_key(),
            sealing_key_id: bundle.sealing_key_id(),
        }
    }

    /// `address ‖ identity key ‖ sealing key ‖ key id`.
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
        w.raw(self.sealing_key_id.as_bytes());
    }
}

/// A member as it appears in a received roster: its bytes, read in place.
/// Its keys are exactly the roster's bytes, not yet validated (SPEC.md §8.1).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MemberRef<'a> {
    encoding: &'a [u8],
    user: Lp8<&'a [u8]>,
    device: u32,
    identity_key: &'a [u8; 32],
    sealing_key: &'a [u8; 32],
    sealing_key_id: &'a [u8; 16],
}

impl<'a> MemberRef<'a> {
    /// Reads one member (structure only: a user id of 1 to 255 bytes).
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let whole = r.rest();
        let mut inner = Reader::new(whole);
        let user = inner.lp8()?;
        if user.as_bytes().is_empty() {
            return Err(DecodeError::InvalidLength);
        }
        let device = inner.u32()?;
        let identity_key = array_ref::<32>(&mut inner)?;
        let sealing_key = array_ref::<32>(&mut inner)?;
        let sealing_key_id = array_ref::<16>(&mut inner)?;
        let (encoding, rest) = whole
            .split_at_checked(whole.len() - inner.remaining())
            .ok_or(DecodeError::Truncated)?;
        *r = Reader::new(rest);
        Ok(Self {
            encoding,
            user,
            device,
            identity_key,
            sealing_key,
            sealing_key_id,
        })
    }

    /// The member's user id bytes.
    pub fn user_id(&self) -> &'a [u8] {
        self.user.bytes()
    }

    /// The member's device id.
    pub fn device_id(&self) -> DeviceId {
        DeviceId::new(self.device)
    }

    /// The member's address (allocates).
    pub fn address(&self) -> DeviceAddress {
        // A roster's user ids are 1 to 255 bytes (checked when it was read).
        DeviceAddress::new(UserId::from_checked(self.user), DeviceId::new(self.device))
    }

    /// Whether this is the member with `address`.
    pub fn is(&self, address: &DeviceAddress) -> bool {
        self.user_id() == address.user.as_bytes() && self.device == address.device.get()
    }

    /// The identity key's bytes as listed.
    pub fn identity_key_bytes(&self) -> &'a [u8; 32] {
        self.identity_key
    }

    /// The identity key, decoded and checked (SPEC.md §4.2).
    pub fn identity_key(&self) -> Result<IdentityPublicKey, KeyError> {
        IdentityPublicKey::from_bytes(self.identity_key)
    }

    /// The sealing key as listed (not validated).
    pub fn sealing_key(&self) -> SealingPublicKey {
        SealingPublicKey::from_bytes(*self.sealing_key)
    }

    /// The sealing key id as listed.
    pub fn sealing_key_id(&self) -> SealingKeyId {
        SealingKeyId::from_bytes(*self.sealing_key_id)
    }

    /// The member's encoding (SPEC.md §8.1).
    pub fn encoding(&self) -> &'a [u8] {
        self.encoding
    }

    /// The member's address encoding, `lp8(user id) ‖ u32(device id)`.
    pub(crate) fn address_encoding(&self) -> &'a [u8] {
        self.encoding
            .get(..1 + self.user_id().len() + 4)
            .unwrap_or_default()
    }

    pub(crate) fn cmp_to(&self, user: &[u8], device: u32) -> Ordering {
        cmp_address(self.user_id(), self.device, user, device)
    }

    /// The owned, validated member (SPEC.md §4.2, §4.3): fails if a key is invalid.
    pub fn to_member(&self) -> Result<Member, GroupError> {
        let sealing_key = self.sealing_key();
        let identity_key = self.identity_key().map_err(|_| GroupError::InvalidRoster)?;
        if sealing_key.validate().is_err() || sealing_key.key_id() != self.sealing_key_id() {
            return Err(GroupError::InvalidRoster);
        }
        Ok(Member {
            address: self.address(),
            identity_key,
            sealing_key,
            sealing_key_id: self.sealing_key_id(),
        })
    }
}

impl fmt::Debug for MemberRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemberRef(")?;
        crate::keys::write_hex(f, self.user_id())?;
        write!(f, "/{})", self.device)
    }
}

/// An address as listed in a delta's removals.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AddressRef<'a> {
    encoding: &'a [u8],
    user: Lp8<&'a [u8]>,
    device: u32,
}

impl<'a> AddressRef<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let whole = r.rest();
        let mut inner = Reader::new(whole);
        let user = inner.lp8()?;
        if user.as_bytes().is_empty() {
            return Err(DecodeError::InvalidLength);
        }
        let device = inner.u32()?;
        let (encoding, rest) = whole
            .split_at_checked(whole.len() - inner.remaining())
            .ok_or(DecodeError::Truncated)?;
        *r = Reader::new(rest);
        Ok(Self {
            encoding,
            user,
            device,
        })
    }

    /// The user id bytes.
    pub fn user_id(&self) -> &'a [u8] {
        self.user.bytes()
    }

    /// The device id.
    pub fn device_id(&self) -> DeviceId {
        DeviceId::new(self.device)
    }

    /// The address (allocates).
    pub fn address(&self) -> DeviceAddress {
        DeviceAddress::new(UserId::from_checked(self.user), DeviceId::new(self.device))
    }
}

/// Takes the next `N` bytes as a borrowed array.
fn array_ref<'a, const N: usize>(r: &mut Reader<'a>) -> Result<&'a [u8; N], DecodeError> {
    <&[u8; N]>::try_from(r.take(N)?).map_err(|_| DecodeError::Truncated)
}

/// Offsets of `n` consecutive items in `bytes`: `n + 1` entries, the last is the end.
fn item<'a>(bytes: &'a [u8], offsets: &[u32], i: usize) -> Option<&'a [u8]> {
    let start = usize::try_from(*offsets.get(i)?).ok()?;
    let end = usize::try_from(*offsets.get(i.checked_add(1)?)?).ok()?;
    bytes.get(start..end)
}

fn offset(at: usize) -> Result<u32, GroupError> {
    u32::try_from(at).map_err(|_| GroupError::Malformed(DecodeError::InvalidLength))
}

/// The member devices of one epoch, ordered by address, without duplicates:
/// the encoding of SPEC.md §8.1 and an offset per member.
#[derive(Clone, PartialEq, Eq)]
pub struct Roster {
    /// `u32(n) ‖ member_1 ‖ … ‖ member_n`.
    bytes: Vec<u8>,
    /// The start of each member in `bytes`, then the end.
    offsets: Vec<u32>,
    /// `n`, the number of members (checked to fit when the roster was built or read).
    count: u32,
}

impl fmt::Debug for Roster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Roster {
    /// Sorts and checks members (SPEC.md §8.1): every key valid, every key id
    /// its key's, no address twice, at least one member.
    pub fn new(mut members: Vec<Member>) -> Result<Self, GroupError> {
        members.sort_by(|a, b| a.address.cmp(&b.address));
        let keys_valid = members.iter().all(|m| {
            m.sealing_key.validate().is_ok() && m.sealing_key.key_id() == m.sealing_key_id
        });
        if !keys_valid {
            return Err(GroupError::InvalidRoster);
        }
        Self::from_sorted(&members)
    }

    /// The roster of the devices of these verified bundles (any order).
    pub fn from_bundles<'a>(
        bundles: impl IntoIterator<Item = &'a VerifiedBundle>,
    ) -> Result<Self, GroupError> {
        let mut members: Vec<Member> = bundles.into_iter().map(Member::from_bundle).collect();
        members.sort_by(|a, b| a.address.cmp(&b.address));
        // KeyBundle::verify already checked every sealing key and key id.
        Self::from_sorted(&members)
    }

    /// Encodes members already sorted, refusing an empty list and repeated addresses.
    fn from_sorted(members: &[Member]) -> Result<Self, GroupError> {
        let ordered = members.windows(2).all(|w| match w {
            [a, b] => a.address < b.address,
            _ => true,
        });
        let n = u32::try_from(members.len()).map_err(|_| GroupError::InvalidRoster)?;
        if members.is_empty() || !ordered {
            return Err(GroupError::InvalidRoster);
        }
        let mut w = Writer::with_capacity(4 + members.len() * (MIN_MEMBER_LEN + 16));
        w.u32(n);
        let mut offsets = Vec::with_capacity(members.len() + 1);
        for m in members {
            offsets.push(offset(w.as_bytes().len())?);
            m.encode(&mut w);
        }
        offsets.push(offset(w.as_bytes().len())?);
        Ok(Self {
            bytes: w.into_bytes(),
            offsets,
            count: n,
        })
    }

    /// Reads a well-formed roster (SPEC.md §8.1: structure and order only).
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, GroupError> {
        let whole = r.rest();
        let mut inner = Reader::new(whole);
        let roster = Self::decode_inner(&mut inner, whole)?;
        let (_, rest) = whole
            .split_at_checked(roster.bytes.len())
            .ok_or(GroupError::Malformed(DecodeError::Truncated))?;
        *r = Reader::new(rest);
        Ok(roster)
    }

    fn decode_inner(r: &mut Reader<'_>, whole: &[u8]) -> Result<Self, GroupError> {
        let before = r.remaining();
        let n = r.u32()?;
        if n == 0 {
            return Err(GroupError::InvalidRoster);
        }
        // Each member takes at least MIN_MEMBER_LEN bytes: refuse counts the input cannot hold.
        let count = usize::try_from(n)
            .ok()
            .filter(|n| n.saturating_mul(MIN_MEMBER_LEN) <= r.remaining())
            .ok_or(GroupError::Malformed(DecodeError::Truncated))?;
        let mut offsets = Vec::with_capacity(count + 1);
        let mut previous: Option<MemberRef<'_>> = None;
        for _ in 0..count {
            offsets.push(offset(before - r.remaining())?);
            let m = MemberRef::read(r)?;
            if let Some(p) = previous
                && p.cmp_to(m.user_id(), m.device) != Ordering::Less
            {
                return Err(GroupError::InvalidRoster);
            }
            previous = Some(m);
        }
        let len = before - r.remaining();
        offsets.push(offset(len)?);
        let bytes = whole
            .get(..len)
            .ok_or(GroupError::Malformed(DecodeError::Truncated))?
            .to_vec();
        Ok(Self {
            bytes,
            offsets,
            count: n,
        })
    }

    /// Reads a roster that must be exactly `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let roster = Self::decode(&mut r)?;
        r.finish()?;
        Ok(roster)
    }

    /// The encoding `u32(n) ‖ member_1 ‖ … ‖ member_n` (SPEC.md §8.1).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of member devices.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of member devices, as its `u32` count.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// Always false: a roster has at least one member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th member, in roster order.
    pub fn member(&self, i: usize) -> Option<MemberRef<'_>> {
        let bytes = item(&self.bytes, &self.offsets, i)?;
        MemberRef::read(&mut Reader::new(bytes)).ok()
    }

    /// The members, in roster order.
    pub fn iter(&self) -> impl Iterator<Item = MemberRef<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.member(i))
    }

    /// The position of the member with this address, or where it would go.
    pub(crate) fn search(&self, user: &[u8], device: u32) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.member(mid).map(|m| m.cmp_to(user, device)) {
                Some(Ordering::Less) => lo = mid + 1,
                Some(Ordering::Greater) | None => hi = mid,
                Some(Ordering::Equal) => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// The member with this address.
    pub fn get(&self, address: &DeviceAddress) -> Option<MemberRef<'_>> {
        self.search(address.user.as_bytes(), address.device.get())
            .ok()
            .and_then(|i| self.member(i))
    }

    /// The position of the member with this address.
    pub fn position(&self, address: &DeviceAddress) -> Option<usize> {
        self.search(address.user.as_bytes(), address.device.get())
            .ok()
    }

    /// Whether a device of this user is a member.
    pub fn contains_user(&self, user: &[u8]) -> bool {
        let i = match self.search(user, 0) {
            Ok(i) | Err(i) => i,
        };
        self.member(i).is_some_and(|m| m.user_id() == user)
    }

    /// `DeriveLabeled("", roster encoding, "roster hash", lp8(group id), 32)` (SPEC.md §8.1).
    pub fn hash(&self, group: &GroupId) -> RosterHash {
        let mut context = Writer::with_capacity(1 + group.as_bytes().len());
        group.encode(&mut context);
        let mut out = [0u8; 32];
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 32-byte output: cannot fail"
        )]
        let _ = derive_labeled(
            b"",
            &self.bytes,
            labels::kdf::ROSTER_HASH,
            context.as_bytes(),
            &mut out,
        );
        RosterHash(out)
    }

    /// The delta from `self` (the previous roster) to `new` (SPEC.md §8.5):
    /// the one delta that [`Roster::apply`] turns `self` into `new` with.
    /// `Malformed(InvalidLength)` if the delta would exceed 4 GiB (its offsets are `u32`).
    pub fn delta_to(&self, new: &Roster) -> Result<RosterDelta, GroupError> {
        let mut removed: Vec<&[u8]> = Vec::new();
        let mut upserts: Vec<&[u8]> = Vec::new();
        walk(self, new, |change| match change {
            Change::Removed(old) => removed.push(old.address_encoding()),
            Change::Added(m) | Change::Changed { new: m, .. } => upserts.push(m.encoding),
        });
        RosterDelta::from_parts(&removed, &upserts)
    }

    /// Applies a delta to this roster (the previous epoch's): SPEC.md §8.5.
    /// Unchanged members are copied in runs, with their offsets shifted.
    pub fn apply(&self, delta: &RosterDelta) -> Result<Roster, GroupError> {
        let invalid = GroupError::InvalidRosterDelta;
        let capacity = self.bytes.len().saturating_add(delta.bytes.len());
        if u32::try_from(capacity).is_err() {
            return Err(GroupError::Malformed(DecodeError::InvalidLength));
        }
        let mut out = RosterBuilder {
            bytes: Vec::with_capacity(capacity),
            offsets: Vec::with_capacity(self.len() + delta.upserts() + 1),
        };
        out.bytes.extend_from_slice(&[0; 4]);
        let mut next = 0usize;
        let mut removed = delta.removed_iter().peekable();
        let mut upserts = delta.upsert_iter().peekable();
        loop {
            let order = match (removed.peek(), upserts.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(r), Some(u)) => cmp_address(r.user_id(), r.device, u.user_id(), u.device),
            };
            match order {
                // Removed and re-listed in one delta.
                Ordering::Equal => return Err(invalid),
                Ordering::Less => {
                    let r = removed.next().ok_or(invalid)?;
                    let p = self
                        .search(r.user_id(), r.device)
                        .ok()
                        .filter(|&p| p >= next)
                        .ok_or(invalid)?;
                    out.copy_run(self, next, p)?;
                    next = p + 1;
                }
                Ordering::Greater => {
                    let u = upserts.next().ok_or(invalid)?;
                    match self.search(u.user_id(), u.device) {
                        Ok(p) if p >= next => {
                            // Changed: must differ from the previous entry.
                            if self.member(p).is_some_and(|old| old.encoding == u.encoding) {
                                return Err(invalid);
                            }
                            out.copy_run(self, next, p)?;
                            out.push(u.encoding)?;
                            next = p + 1;
                        }
                        Err(p) if p >= next => {
                            out.copy_run(self, next, p)?;
                            out.push(u.encoding)?;
                            next = p;
                        }
                        _ => return Err(invalid),
                    }
                }
            }
        }
        out.copy_run(self, next, self.len())?;
        out.finish()
    }

    /// What changed from `self` (the previous roster) to `new`, address by address.
    pub(crate) fn changes_to<'a>(&'a self, new: &'a Roster) -> Changes<'a> {
        let mut changes = Changes::default();
        walk(self, new, |c| changes.push(c));
        changes
    }
}

/// A roster being assembled from runs of another roster and single members.
struct RosterBuilder {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
}

impl RosterBuilder {
    /// Appends `base`'s members `from..to`, shifting their offsets.
    fn copy_run(&mut self, base: &Roster, from: usize, to: usize) -> Result<(), GroupError> {
        if from >= to {
            return Ok(());
        }
        let bad = GroupError::InvalidRosterDelta;
        let starts = base.offsets.get(from..to).ok_or(bad)?;
        let start = *base.offsets.get(from).ok_or(bad)?;
        let end = *base.offsets.get(to).ok_or(bad)?;
        let here = offset(self.bytes.len())?;
        // Every offset in the run is at least `start`, and the result fits (checked capacity).
        self.offsets.extend(
            starts
                .iter()
                .map(|o| o.wrapping_sub(start).wrapping_add(here)),
        );
        let run = base
            .bytes
            .get(usize::try_from(start).map_err(|_| bad)?..usize::try_from(end).map_err(|_| bad)?)
            .ok_or(bad)?;
        self.bytes.extend_from_slice(run);
        Ok(())
    }

    fn push(&mut self, member: &[u8]) -> Result<(), GroupError> {
        self.offsets.push(offset(self.bytes.len())?);
        self.bytes.extend_from_slice(member);
        Ok(())
    }

    fn finish(mut self) -> Result<Roster, GroupError> {
        if self.offsets.is_empty() {
            return Err(GroupError::InvalidRoster);
        }
        let count = u32::try_from(self.offsets.len()).map_err(|_| GroupError::InvalidRoster)?;
        self.offsets.push(offset(self.bytes.len())?);
        if let Some(head) = self.bytes.get_mut(..4) {
            head.copy_from_slice(&count.to_be_bytes());
        }
        Ok(Roster {
            bytes: self.bytes,
            offsets: self.offsets,
            count,
        })
    }
}

/// One difference between two rosters.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Change<'a> {
    Removed(MemberRef<'a>),
    Added(MemberRef<'a>),
    Changed {
        old: MemberRef<'a>,
        new: MemberRef<'a>,
    },
}

/// The differences between two rosters, in address order.
#[derive(Default, Debug)]
pub(crate) struct Changes<'a> {
    pub(crate) list: Vec<Change<'a>>,
}

impl<'a> Changes<'a> {
    fn push(&mut self, c: Change<'a>) {
        self.list.push(c);
    }
}

/// One merge walk over two rosters, calling `f` for each differing address.
fn walk<'a>(old: &'a Roster, new: &'a Roster, mut f: impl FnMut(Change<'a>)) {
    if old.bytes == new.bytes {
        return;
    }
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.member(i), new.member(j)) {
            (Some(a), Some(b)) => match a.cmp_to(b.user_id(), b.device) {
                Ordering::Less => {
                    f(Change::Removed(a));
                    i += 1;
                }
                Ordering::Greater => {
                    f(Change::Added(b));
                    j += 1;
                }
                Ordering::Equal => {
                    if a.encoding != b.encoding {
                        f(Change::Changed { old: a, new: b });
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(a), None) => {
                f(Change::Removed(a));
                i += 1;
            }
            (None, Some(b)) => {
                f(Change::Added(b));
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// A roster change against the previous epoch's roster (SPEC.md §8.5):
/// removed addresses, and added or changed members.
#[derive(Clone, PartialEq, Eq)]
pub struct RosterDelta {
    /// `u32(r) ‖ r × address ‖ u32(a) ‖ a × member`.
    bytes: Vec<u8>,
    /// Offsets of the removed addresses (r + 1 entries).
    removed: Vec<u32>,
    /// Offsets of the added or changed members (a + 1 entries).
    upserts: Vec<u32>,
}

impl fmt::Debug for RosterDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosterDelta")
            .field("removed", &self.removed.len().saturating_sub(1))
            .field("added_or_changed", &self.upserts())
            .finish()
    }
}

impl RosterDelta {
    fn from_parts(removed: &[&[u8]], upserts: &[&[u8]]) -> Result<Self, GroupError> {
        let size = 8
            + removed.iter().map(|a| a.len()).sum::<usize>()
            + upserts.iter().map(|m| m.len()).sum::<usize>();
        let mut w = Writer::with_capacity(size);
        let mut r_offsets = Vec::with_capacity(removed.len() + 1);
        let mut u_offsets = Vec::with_capacity(upserts.len() + 1);
        w.u32(offset(removed.len())?);
        for a in removed {
            r_offsets.push(offset(w.as_bytes().len())?);
            w.raw(a);
        }
        r_offsets.push(offset(w.as_bytes().len())?);
        w.u32(offset(upserts.len())?);
        for m in upserts {
            u_offsets.push(offset(w.as_bytes().len())?);
            w.raw(m);
        }
        u_offsets.push(offset(w.as_bytes().len())?);
        Ok(Self {
            bytes: w.into_bytes(),
            removed: r_offsets,
            upserts: u_offsets,
        })
    }

    /// Reads a delta whose two lists are each strictly increasing by address.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, GroupError> {
        let whole = r.rest();
        let mut inner = Reader::new(whole);
        let delta = Self::decode_inner(&mut inner, whole)?;
        let (_, rest) = whole
            .split_at_checked(delta.bytes.len())
            .ok_or(GroupError::Malformed(DecodeError::Truncated))?;
        *r = Reader::new(rest);
        Ok(delta)
    }

    fn decode_inner(r: &mut Reader<'_>, whole: &[u8]) -> Result<Self, GroupError> {
        let before = r.remaining();
        let read_count = |r: &mut Reader<'_>, min: usize| -> Result<usize, GroupError> {
            let n = r.u32()?;
            usize::try_from(n)
                .ok()
                .filter(|n| n.saturating_mul(min) <= r.remaining())
                .ok_or(GroupError::Malformed(DecodeError::Truncated))
        };
        let count = read_count(r, MIN_ADDRESS_LEN)?;
        let mut removed = Vec::with_capacity(count + 1);
        let mut previous: Option<(&[u8], u32)> = None;
        for _ in 0..count {
            removed.push(offset(before - r.remaining())?);
            let a = AddressRef::read(r)?;
            if previous
                .is_some_and(|(u, d)| cmp_address(u, d, a.user_id(), a.device) != Ordering::Less)
            {
                return Err(GroupError::InvalidRosterDelta);
            }
            previous = Some((a.user_id(), a.device));
        }
        removed.push(offset(before - r.remaining())?);
        let count = read_count(r, MIN_MEMBER_LEN)?;
        let mut upserts = Vec::with_capacity(count + 1);
        let mut previous: Option<(&[u8], u32)> = None;
        for _ in 0..count {
            upserts.push(offset(before - r.remaining())?);
            let m = MemberRef::read(r)?;
            if previous
                .is_some_and(|(u, d)| cmp_address(u, d, m.user_id(), m.device) != Ordering::Less)
            {
                return Err(GroupError::InvalidRosterDelta);
            }
            previous = Some((m.user_id(), m.device));
        }
        let len = before - r.remaining();
        upserts.push(offset(len)?);
        let bytes = whole
            .get(..len)
            .ok_or(GroupError::Malformed(DecodeError::Truncated))?
            .to_vec();
        Ok(Self {
            bytes,
            removed,
            upserts,
        })
    }

    /// Reads a delta that must be exactly `bytes` (structure and order only;
    /// whether it applies is checked by [`Roster::apply`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let delta = Self::decode(&mut r)?;
        r.finish()?;
        Ok(delta)
    }

    /// The encoding (SPEC.md §8.5).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the delta changes nothing (a pure rotation).
    pub fn is_empty(&self) -> bool {
        self.removed.len() <= 1 && self.upserts() == 0
    }

    /// Number of added or changed members.
    pub fn upserts(&self) -> usize {
        self.upserts.len().saturating_sub(1)
    }

    /// The removed addresses, ascending.
    pub fn removed_iter(&self) -> impl Iterator<Item = AddressRef<'_>> + '_ {
        (0..self.removed.len().saturating_sub(1)).filter_map(|i| {
            item(&self.bytes, &self.removed, i)
                .and_then(|b| AddressRef::read(&mut Reader::new(b)).ok())
        })
    }

    /// The added or changed members, ascending.
    pub fn upsert_iter(&self) -> impl Iterator<Item = MemberRef<'_>> + '_ {
        (0..self.upserts()).filter_map(|i| {
            item(&self.bytes, &self.upserts, i)
                .and_then(|b| MemberRef::read(&mut Reader::new(b)).ok())
        })
    }

    /// What the delta changes in `base` (which it must apply to), by address.
    pub(crate) fn changes<'a>(&'a self, base: &'a Roster) -> Changes<'a> {
        let mut changes = Changes::default();
        for a in self.removed_iter() {
            if let Some(old) = base
                .search(a.user_id(), a.device)
                .ok()
                .and_then(|i| base.member(i))
            {
                changes.push(Change::Removed(old));
            }
        }
        for m in self.upsert_iter() {
            match base
                .search(m.user_id(), m.device)
                .ok()
                .and_then(|i| base.member(i))
            {
                Some(old) => changes.push(Change::Changed { old, new: m }),
                None => changes.push(Change::Added(m)),
            }
        }
        changes
    }
}

/// The hash of a roster, bound into everything of its epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RosterHash(#[serde(with = "crate::serde_hex")] [u8; 32]);

impl RosterHash {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RosterHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RosterHash(")?;
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceKeys;
    use crate::registration::{NoDirectory, RegistrationPolicy};
    use crate::time::Timestamp;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn bundle(rng: &mut ChaCha20Rng, keys: &mut DeviceKeys) -> VerifiedBundle {
        let now = Timestamp::from_unix_seconds(1_800_000_000);
        keys.add_sealing_key(rng, now, 86_400)
            .verify(
                &keys.address().clone().into(),
                &RegistrationPolicy::default(),
                now,
                None,
                &NoDirectory,
            )
            .unwrap()
    }

    fn device(rng: &mut ChaCha20Rng, user: &str, id: u32) -> DeviceKeys {
        let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(id));
        DeviceKeys::generate(rng, address)
    }

    fn bundles(rng: &mut ChaCha20Rng, names: &[(&str, u32)]) -> Vec<VerifiedBundle> {
        names
            .iter()
            .map(|(n, d)| {
                let mut k = device(rng, n, *d);
                bundle(rng, &mut k)
            })
            .collect()
    }

    #[test]
    fn from_bundles_refuses_empty_and_repeated_devices() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let mut a = device(&mut rng, "a", 1);
        let mut b = device(&mut rng, "b", 1);
        let (a1, a2, b1) = (
            bundle(&mut rng, &mut a),
            bundle(&mut rng, &mut a),
            bundle(&mut rng, &mut b),
        );
        assert_eq!(Roster::from_bundles([]), Err(GroupError::InvalidRoster));
        assert_eq!(
            Roster::from_bundles([&a1, &a1]),
            Err(GroupError::InvalidRoster)
        );
        // Two sealing keys of one device are still one device.
        assert_eq!(
            Roster::from_bundles([&b1, &a1, &a2]),
            Err(GroupError::InvalidRoster)
        );
        let roster = Roster::from_bundles([&b1, &a2]).unwrap();
        assert!(!roster.is_empty());
        assert_eq!(roster.len(), 2);
        let addresses: Vec<_> = roster.iter().map(|m| m.address()).collect();
        assert_eq!(addresses, [a.address().clone(), b.address().clone()]);
        assert!(roster.contains_user(b"a") && roster.contains_user(b"b"));
        assert!(!roster.contains_user(b"") && !roster.contains_user(b"c"));
        assert_eq!(roster.position(b.address()), Some(1));
    }

    #[test]
    fn decode_accepts_an_exact_fit_and_refuses_impossible_counts_and_disorder() {
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let roster =
            Roster::from_bundles(&bundles(&mut rng, &[("x", 1), ("y", 1), ("z", 1)])).unwrap();
        let bytes = roster.as_bytes().to_vec();
        assert_eq!(bytes.len(), 4 + 3 * MIN_MEMBER_LEN);
        assert_eq!(Roster::from_bytes(&bytes), Ok(roster.clone()));

        let short = &bytes[..bytes.len() - 1];
        assert_eq!(
            Roster::from_bytes(short),
            Err(GroupError::Malformed(DecodeError::Truncated))
        );
        let mut huge = bytes.clone();
        huge.splice(..4, u32::MAX.to_be_bytes());
        assert_eq!(
            Roster::from_bytes(&huge),
            Err(GroupError::Malformed(DecodeError::Truncated))
        );
        assert_eq!(
            Roster::from_bytes(&0u32.to_be_bytes()),
            Err(GroupError::InvalidRoster)
        );
        // Members 1 and 2 swapped: out of order.
        let mut swapped = bytes[..4].to_vec();
        let m = MIN_MEMBER_LEN;
        swapped.extend_from_slice(&bytes[4 + m..4 + 2 * m]);
        swapped.extend_from_slice(&bytes[4..4 + m]);
        swapped.extend_from_slice(&bytes[4 + 2 * m..]);
        assert_eq!(Roster::from_bytes(&swapped), Err(GroupError::InvalidRoster));
        // A prefix sorts first; device ids order one user's devices.
        let r = Roster::from_bundles(&bundles(
            &mut rng,
            &[("ab", 1), ("a", 9), ("a", 2), ("b", 0)],
        ))
        .unwrap();
        let order: Vec<_> = r
            .iter()
            .map(|m| (m.user_id().to_vec(), m.device_id().get()))
            .collect();
        assert_eq!(
            order,
            [
                (b"a".to_vec(), 2),
                (b"a".to_vec(), 9),
                (b"ab".to_vec(), 1),
                (b"b".to_vec(), 0)
            ]
        );
    }

    #[test]
    fn deltas_are_unique_and_apply_exactly() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let all = bundles(
            &mut rng,
            &[("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1)],
        );
        let rekeyed_c = {
            let mut k = device(&mut rng, "c", 1);
            bundle(&mut rng, &mut k)
        };
        let old = Roster::from_bundles(&all[..4]).unwrap();
        let new = Roster::from_bundles([&all[0], &rekeyed_c, &all[3], &all[4]]).unwrap();
        let delta = old.delta_to(&new).unwrap();
        assert_eq!(old.apply(&delta), Ok(new.clone()));
        let changes = delta.changes(&old);
        let kinds: Vec<_> = changes
            .list
            .iter()
            .map(|c| match c {
                Change::Removed(m) => ('-', m.user_id().to_vec()),
                Change::Added(m) => ('+', m.user_id().to_vec()),
                Change::Changed { new, .. } => ('~', new.user_id().to_vec()),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ('-', b"b".to_vec()),
                ('~', b"c".to_vec()),
                ('+', b"e".to_vec())
            ]
        );
        assert_eq!(old.changes_to(&new).list.len(), 3);
        // The encoding decodes to the same delta.
        let mut r = Reader::new(delta.as_bytes());
        assert_eq!(RosterDelta::decode(&mut r), Ok(delta.clone()));
        r.finish().unwrap();
        // A pure rotation.
        let none = old.delta_to(&old).unwrap();
        assert!(none.is_empty());
        assert_eq!(old.apply(&none), Ok(old.clone()));
        // Not applicable to another base: removing a non-member, re-adding an
        // identical entry, removing and changing one address.
        assert_eq!(
            new.apply(&delta),
            Err(GroupError::InvalidRosterDelta),
            "b is not in the new roster"
        );
        let a = old.member(0).unwrap();
        let same = RosterDelta::from_parts(&[], &[a.encoding()]).unwrap();
        assert_eq!(old.apply(&same), Err(GroupError::InvalidRosterDelta));
        let c = new.member(1).unwrap();
        let both = RosterDelta::from_parts(&[c.address_encoding()], &[c.encoding()]).unwrap();
        assert_eq!(old.apply(&both), Err(GroupError::InvalidRosterDelta));
        // Removing everyone leaves an invalid roster.
        let everyone: Vec<&[u8]> = old.iter().map(|m| m.address_encoding()).collect();
        let empty = RosterDelta::from_parts(&everyone, &[]).unwrap();
        assert_eq!(old.apply(&empty), Err(GroupError::InvalidRoster));
        // Decoding refuses unordered lists.
        let unordered = RosterDelta::from_parts(&[everyone[1], everyone[0]], &[]).unwrap();
        assert_eq!(
            RosterDelta::decode(&mut Reader::new(unordered.as_bytes())),
            Err(GroupError::InvalidRosterDelta)
        );
    }
}
