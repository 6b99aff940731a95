//! Group ids, members and rosters (SPEC.md §8.1).

use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::GroupError;
use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::DeviceAddress;
use crate::kdf::derive_labeled;
use crate::keys::{IdentityPublicKey, SealingKeyId, SealingPublicKey};
use crate::labels;
use crate::registration::VerifiedBundle;

/// Longest group id in bytes.
pub const MAX_GROUP_ID_LEN: usize = 255;

/// A group id chosen by the application: 1 to 255 opaque bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(Vec<u8>);

impl GroupId {
    /// Checks the length and wraps the bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, GroupError> {
        let bytes = bytes.as_ref();
        if bytes.is_empty() || bytes.len() > MAX_GROUP_ID_LEN {
            return Err(GroupError::InvalidGroupId);
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(u8::try_from(self.0.len()).unwrap_or(u8::MAX));
        w.raw(&self.0);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::new(r.bytes_u8()?).map_err(|_| DecodeError::InvalidLength)
    }
}

impl Serialize for GroupId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::serde_hex::serialize(&self.0, serializer)
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
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// One member device of a group: its address and the keys the roster vouches for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    fn encode(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
        w.raw(self.sealing_key_id.as_bytes());
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, GroupError> {
        let address = DeviceAddress::decode(r)?;
        let identity_key =
            IdentityPublicKey::from_bytes(&r.array()?).map_err(|_| GroupError::InvalidRoster)?;
        let sealing_key = SealingPublicKey::from_bytes(r.array()?);
        let sealing_key_id = SealingKeyId::from_bytes(r.array()?);
        Ok(Self {
            address,
            identity_key,
            sealing_key,
            sealing_key_id,
        })
    }
}

/// The member devices of one epoch, ordered by address (user id bytes, then
/// device id), without duplicates, each with a valid sealing key and key id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Member>", into = "Vec<Member>")]
pub struct Roster(Vec<Member>);

impl Roster {
    /// Sorts and checks members (SPEC.md §8.1).
    pub fn new(mut members: Vec<Member>) -> Result<Self, GroupError> {
        members.sort_by(|a, b| a.address.cmp(&b.address));
        Self::from_sorted(members)
    }

    /// The roster of the devices of these bundles.
    pub fn from_bundles<'a>(
        bundles: impl IntoIterator<Item = &'a VerifiedBundle>,
    ) -> Result<Self, GroupError> {
        let mut members: Vec<Member> = bundles.into_iter().map(Member::from_bundle).collect();
        members.sort_by(|a, b| a.address.cmp(&b.address));
        // KeyBundle::verify already checked every sealing key and key id.
        Self::check_order(members)
    }

    /// Checks order, uniqueness and count of members whose keys are already known valid.
    fn check_order(members: Vec<Member>) -> Result<Self, GroupError> {
        let ordered = members.windows(2).all(|w| match w {
            [a, b] => a.address < b.address,
            _ => true,
        });
        if members.is_empty() || u32::try_from(members.len()).is_err() || !ordered {
            return Err(GroupError::InvalidRoster);
        }
        Ok(Self(members))
    }

    fn from_sorted(members: Vec<Member>) -> Result<Self, GroupError> {
        let keys_valid = members.iter().all(|m| {
            m.sealing_key.validate().is_ok() && m.sealing_key.key_id() == m.sealing_key_id
        });
        if !keys_valid {
            return Err(GroupError::InvalidRoster);
        }
        Self::check_order(members)
    }

    /// The members, in roster order.
    pub fn members(&self) -> &[Member] {
        &self.0
    }

    /// Number of member devices.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a roster has at least one member.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The member with this address.
    pub fn get(&self, address: &DeviceAddress) -> Option<&Member> {
        self.0
            .binary_search_by(|m| m.address.cmp(address))
            .ok()
            .and_then(|i| self.0.get(i))
    }

    /// `u32(n) ‖ member_1 ‖ … ‖ member_n`.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.0.len()).unwrap_or(u32::MAX));
        for m in &self.0 {
            m.encode(w);
        }
    }

    /// Reads and checks a roster (order, duplicates, keys).
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, GroupError> {
        let n = r.u32()?;
        // Each member takes at least 86 bytes: refuse counts the input cannot hold.
        if usize::try_from(n).map_or(true, |n| n.saturating_mul(86) > r.remaining()) {
            return Err(GroupError::Malformed(DecodeError::Truncated));
        }
        let members = (0..n)
            .map(|_| Member::decode(r))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_sorted(members)
    }

    /// `DeriveLabeled("", roster encoding, "roster hash", lp8(group id), 32)` (SPEC.md §8.1).
    pub fn hash(&self, group: &GroupId) -> RosterHash {
        let mut encoding = Writer::with_capacity(self.0.len() * 100 + 4);
        self.encode(&mut encoding);
        let mut context = Writer::new();
        group.encode(&mut context);
        let mut out = [0u8; 32];
        // Constant label, 32-byte output: cannot fail.
        let _ = derive_labeled(
            b"",
            encoding.as_bytes(),
            labels::kdf::ROSTER_HASH,
            context.as_bytes(),
            &mut out,
        );
        RosterHash(out)
    }
}

impl TryFrom<Vec<Member>> for Roster {
    type Error = GroupError;
    fn try_from(members: Vec<Member>) -> Result<Self, GroupError> {
        Self::from_sorted(members)
    }
}

impl From<Roster> for Vec<Member> {
    fn from(roster: Roster) -> Vec<Member> {
        roster.0
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
    use crate::ids::{DeviceId, UserId};
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

    fn device(rng: &mut ChaCha20Rng, user: &str) -> DeviceKeys {
        let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
        DeviceKeys::generate(rng, address)
    }

    #[test]
    fn from_bundles_refuses_empty_and_repeated_devices() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let mut a = device(&mut rng, "a");
        let mut b = device(&mut rng, "b");
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
        let addresses: Vec<_> = roster.members().iter().map(|m| &m.address).collect();
        assert_eq!(addresses, [a.address(), b.address()]);
    }

    #[test]
    fn decode_accepts_an_exact_fit_and_refuses_impossible_counts() {
        // One-byte user ids make the smallest members (86 bytes), so the count check is tight.
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let mut bundles = Vec::new();
        for user in ["x", "y", "z"] {
            let mut keys = device(&mut rng, user);
            bundles.push(bundle(&mut rng, &mut keys));
        }
        let roster = Roster::from_bundles(&bundles).unwrap();
        let mut w = Writer::new();
        roster.encode(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), 4 + 3 * 86);
        assert_eq!(Roster::decode(&mut Reader::new(&bytes)), Ok(roster));

        let mut short = bytes.clone();
        short.truncate(bytes.len() - 1);
        assert_eq!(
            Roster::decode(&mut Reader::new(&short)),
            Err(GroupError::Malformed(DecodeError::Truncated))
        );
        let mut huge = bytes;
        huge.splice(..4, u32::MAX.to_be_bytes());
        assert_eq!(
            Roster::decode(&mut Reader::new(&huge)),
            Err(GroupError::Malformed(DecodeError::Truncated))
        );
    }
}
