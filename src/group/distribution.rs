//! Epoch distributions (SPEC.md §8.2–8.4): signed by the distributor, one
//! pairwise-sealed wrap of the epoch secret per other member, checkable by the
//! server without secrets, and cut into one small view per member for fan-out.

use alloc::vec::Vec;

use super::roster::{GroupId, Roster, RosterHash};
use super::{GroupError, KIND_DISTRIBUTION};
use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::DeviceAddress;
use crate::kdf::derive_labeled;
use crate::keys::{IdentitySecretKey, SIGNATURE_LEN, Signature};
use crate::labels;
use super::GROUP_VERSION as VERSION;

/// The signed part of a distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistributionCore {
    /// The group.
    pub group_id: GroupId,
    /// The new epoch (strictly greater than every earlier one).
    pub epoch: u64,
    /// The epoch this one replaces (0 for the first).
    pub previous_epoch: u64,
    /// Hash of `roster`.
    pub roster_hash: RosterHash,
    /// The member who made the epoch secret and signs.
    pub distributor: DeviceAddress,
    /// The members of the new epoch.
    pub roster: Roster,
    /// One entry per member other than the distributor, in roster order:
    /// the member and the digest of its wrap.
    pub wrap_digests: Vec<(DeviceAddress, [u8; 32])>,
}

impl DistributionCore {
    /// The signed encoding (SPEC.md §8.2).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(128 + self.roster.len() * 160);
        w.u8(VERSION);
        w.u8(KIND_DISTRIBUTION);
        self.group_id.encode(&mut w);
        w.u64(self.epoch);
        w.u64(self.previous_epoch);
        w.raw(self.roster_hash.as_bytes());
        self.distributor.encode(&mut w);
        self.roster.encode(&mut w);
        w.u32(u32::try_from(self.wrap_digests.len()).unwrap_or(u32::MAX));
        for (address, digest) in &self.wrap_digests {
            address.encode(&mut w);
            w.raw(digest);
        }
        w.into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != VERSION {
            return Err(GroupError::UnsupportedVersion(version));
        }
        if r.u8()? != KIND_DISTRIBUTION {
            return Err(GroupError::Malformed(DecodeError::InvalidValue));
        }
        let group_id = GroupId::decode(&mut r)?;
        let epoch = r.u64()?;
        let previous_epoch = r.u64()?;
        let roster_hash = RosterHash::from_bytes(r.array()?);
        let distributor = DeviceAddress::decode(&mut r)?;
        let roster = Roster::decode(&mut r)?;
        let n = r.u32()?;
        // Each entry takes at least 38 bytes.
        if usize::try_from(n).map_or(true, |n| n.saturating_mul(38) > r.remaining()) {
            return Err(GroupError::Malformed(DecodeError::Truncated));
        }
        let wrap_digests = (0..n)
            .map(|_| Ok((DeviceAddress::decode(&mut r)?, r.array()?)))
            .collect::<Result<Vec<_>, DecodeError>>()?;
        r.finish()?;
        Ok(Self {
            group_id,
            epoch,
            previous_epoch,
            roster_hash,
            distributor,
            roster,
            wrap_digests,
        })
    }

    /// Structure checks shared by servers and members (SPEC.md §8.3 steps 2–5),
    /// then the signature.
    pub(crate) fn check(&self, signature: &Signature) -> Result<(), GroupError> {
        if self.roster.hash(&self.group_id) != self.roster_hash {
            return Err(GroupError::RosterHashMismatch);
        }
        let distributor = self
            .roster
            .get(&self.distributor)
            .ok_or(GroupError::DistributorNotMember)?;
        if self.epoch <= self.previous_epoch {
            return Err(GroupError::InvalidEpoch);
        }
        distributor
            .identity_key
            .verify_labeled(labels::sig::GROUP_DISTRIBUTION, &self.encode(), signature)
            .map_err(|_| GroupError::BadSignature)?;
        // One wrap per member other than the distributor, in roster order.
        let expected = self
            .roster
            .members()
            .iter()
            .map(|m| &m.address)
            .filter(|a| **a != self.distributor);
        if !expected.eq(self.wrap_digests.iter().map(|(a, _)| a)) {
            return Err(GroupError::WrapListMismatch);
        }
        Ok(())
    }

    /// The digest listed for `member`.
    pub(crate) fn digest_for(&self, member: &DeviceAddress) -> Option<&[u8; 32]> {
        self.wrap_digests
            .binary_search_by(|(a, _)| a.cmp(member))
            .ok()
            .and_then(|i| self.wrap_digests.get(i))
            .map(|(_, d)| d)
    }
}

/// `DeriveLabeled("", wrap, "wrap digest", "", 32)`.
pub fn wrap_digest(wrap: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // Constant label, 32-byte output: cannot fail.
    let _ = derive_labeled(b"", wrap, labels::kdf::WRAP_DIGEST, b"", &mut out);
    out
}

/// The pairwise associated data of a wrap: `u8(3) ‖ lp8(group id) ‖ u64(epoch) ‖ roster hash`.
pub fn wrap_associated_data(group_id: &GroupId, epoch: u64, roster_hash: &RosterHash) -> Vec<u8> {
    let mut w = Writer::with_capacity(1 + 256 + 8 + 32);
    w.u8(KIND_DISTRIBUTION);
    group_id.encode(&mut w);
    w.u64(epoch);
    w.raw(roster_hash.as_bytes());
    w.into_bytes()
}

/// A signed distribution: the core, its signature, and either every wrap (as
/// sent to the server) or one member's wrap (as fanned out to that member).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    core: DistributionCore,
    core_bytes: Vec<u8>,
    signature: Signature,
    wraps: Vec<Vec<u8>>,
}

impl Distribution {
    /// Signs `core` with `identity` and attaches the wraps. The signer is not
    /// checked against the core's distributor: a mismatch fails verification
    /// with [`GroupError::BadSignature`] or [`GroupError::DistributorNotMember`].
    pub fn sign(core: DistributionCore, wraps: Vec<Vec<u8>>, identity: &IdentitySecretKey) -> Self {
        let core_bytes = core.encode();
        let signature = identity.sign_labeled(labels::sig::GROUP_DISTRIBUTION, &core_bytes);
        Self {
            core,
            core_bytes,
            signature,
            wraps,
        }
    }

    /// The signed content.
    pub fn core(&self) -> &DistributionCore {
        &self.core
    }

    /// The wraps carried (all of them, or one member's).
    pub fn wraps(&self) -> &[Vec<u8>] {
        &self.wraps
    }

    /// `lp32(core) ‖ signature ‖ u32(k) ‖ k × lp32(wrap)` (SPEC.md §8.2).
    pub fn encode(&self) -> Vec<u8> {
        let size =
            self.core_bytes.len() + 72 + self.wraps.iter().map(|w| w.len() + 4).sum::<usize>();
        let mut w = Writer::with_capacity(size);
        // Lengths are bounded by the u32 counts checked when the parts were built.
        let _ = w.bytes_u32(&self.core_bytes);
        w.raw(&self.signature.to_bytes());
        w.u32(u32::try_from(self.wraps.len()).unwrap_or(u32::MAX));
        for wrap in &self.wraps {
            let _ = w.bytes_u32(wrap);
        }
        w.into_bytes()
    }

    /// Strict decoding; checks structure but not the signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        let core_bytes = r.bytes_u32()?.to_vec();
        let signature = Signature::from_bytes(r.array::<SIGNATURE_LEN>()?);
        let n = r.u32()?;
        if usize::try_from(n).map_or(true, |n| n.saturating_mul(4) > r.remaining()) {
            return Err(GroupError::Malformed(DecodeError::Truncated));
        }
        let wraps = (0..n)
            .map(|_| r.bytes_u32().map(<[u8]>::to_vec))
            .collect::<Result<Vec<_>, _>>()?;
        r.finish()?;
        let core = DistributionCore::decode(&core_bytes)?;
        Ok(Self {
            core,
            core_bytes,
            signature,
            wraps,
        })
    }

    /// The server's check (SPEC.md §8.3): structure, roster hash, distributor
    /// membership, signature, epoch newer than `last_epoch` (the last one the
    /// server stored for this group), one wrap per other member, each matching
    /// its signed digest. Needs no secret.
    pub fn verify_for_server(&self, last_epoch: Option<u64>) -> Result<(), GroupError> {
        self.core.check(&self.signature)?;
        if last_epoch.is_some_and(|last| self.core.epoch <= last) {
            return Err(GroupError::StaleEpoch);
        }
        if self.wraps.len() != self.core.wrap_digests.len() {
            return Err(GroupError::WrapListMismatch);
        }
        for (wrap, (_, digest)) in self.wraps.iter().zip(&self.core.wrap_digests) {
            if wrap_digest(wrap) != *digest {
                return Err(GroupError::WrapMismatch);
            }
        }
        Ok(())
    }

    /// The view fanned out to one member: the signed core and that member's
    /// wrap only. `None` if the member has no wrap here.
    pub fn for_member(&self, member: &DeviceAddress) -> Option<Distribution> {
        let index = self
            .core
            .wrap_digests
            .iter()
            .position(|(a, _)| a == member)?;
        let wrap = self.wraps.get(index)?.clone();
        Some(Self {
            core: self.core.clone(),
            core_bytes: self.core_bytes.clone(),
            signature: self.signature,
            wraps: alloc::vec![wrap],
        })
    }

    /// The distributor's signature over the core.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// This member's wrap: the only one carried, or its entry in a full list.
    pub(crate) fn wrap_for(&self, member: &DeviceAddress) -> Option<&[u8]> {
        match self.wraps.as_slice() {
            [only] => Some(only),
            all => {
                let i = self
                    .core
                    .wrap_digests
                    .iter()
                    .position(|(a, _)| a == member)?;
                all.get(i).map(Vec::as_slice)
            }
        }
    }
}
