//! Key bundles, version 2 (SPEC.md §5.1–5.3): a sealing key and an ML-KEM
//! encapsulation key, signed by the device's identity key.

use alloc::vec::Vec;

use super::{
    ExpectedOwner, KeyDirectory, RegistrationError, RegistrationPolicy, check_owner,
    check_pinned_and_directory, check_window, check_x25519_key,
};
use crate::codec::{Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{
    IdentityPublicKey, IdentitySecretKey, KEM_ENCAPSULATION_KEY_LEN, KEM_KEY_ID_LEN, KEY_ID_LEN,
    KemEncapsulationKey, KemKeyId, SIGNATURE_LEN, SealingKeyId, SealingPublicKey, Signature,
    UncheckedKemKey,
};
use crate::labels;
use crate::time::Timestamp;

/// The bundle format version this release writes and accepts. Version 1
/// (release 0.1: no ML-KEM key) is refused with
/// [`RegistrationError::UnsupportedVersion`]; devices re-register.
pub const BUNDLE_VERSION: u8 = 2;

/// Length of the fields after the owner's address: identity key, sealing key
/// and id, KEM key and id, two timestamps.
const TBS_FIXED_LEN: usize = 32 + 32 + KEY_ID_LEN + KEM_ENCAPSULATION_KEY_LEN + KEM_KEY_ID_LEN + 16;

/// The signed fields of a bundle (SPEC.md §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleContent {
    /// The device the keys belong to.
    pub owner: DeviceAddress,
    /// The device's Ed25519 identity key, which signs the bundle.
    pub identity_key: IdentityPublicKey,
    /// The X25519 sealing key being registered (the signed prekey).
    pub sealing_key: SealingPublicKey,
    /// The sealing key's id (must equal `sealing_key.key_id()`).
    pub sealing_key_id: SealingKeyId,
    /// The ML-KEM-768 encapsulation key being registered, as signed
    /// (checked by [`KeyBundle::verify`]).
    pub kem_key: UncheckedKemKey,
    /// The KEM key's id (must equal `kem_key.key_id()`).
    pub kem_key_id: KemKeyId,
    /// Start of the validity window.
    pub not_before: Timestamp,
    /// End of the validity window (exclusive).
    pub not_after: Timestamp,
}

impl BundleContent {
    /// The content for a sealing key and a KEM key, with their derived key ids.
    pub fn new(
        owner: DeviceAddress,
        identity_key: IdentityPublicKey,
        sealing_key: SealingPublicKey,
        kem_key: &KemEncapsulationKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Self {
        Self {
            owner,
            identity_key,
            sealing_key_id: sealing_key.key_id(),
            sealing_key,
            kem_key_id: kem_key.key_id(),
            kem_key: kem_key.into(),
            not_before,
            not_after,
        }
    }

    /// The to-be-signed encoding (SPEC.md §5.1).
    fn encode_tbs(&self, w: &mut Writer) {
        w.u8(BUNDLE_VERSION);
        self.owner.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
        w.raw(self.sealing_key_id.as_bytes());
        w.raw(self.kem_key.as_bytes());
        w.raw(self.kem_key_id.as_bytes());
        w.u64(self.not_before.unix_seconds());
        w.u64(self.not_after.unix_seconds());
    }

    fn tbs(&self) -> Writer {
        let mut w = Writer::with_capacity(1 + 1 + 255 + 4 + TBS_FIXED_LEN + SIGNATURE_LEN);
        self.encode_tbs(&mut w);
        w
    }

    /// Signs the content with `identity` (SPEC.md §5.2). The signer is not
    /// checked against `identity_key`: a mismatch yields a bundle that fails
    /// verification with [`RegistrationError::BadSignature`].
    pub fn sign(self, identity: &IdentitySecretKey) -> KeyBundle {
        let signature = identity.sign_labeled(labels::sig::KEY_BUNDLE, self.tbs().as_bytes());
        KeyBundle {
            content: self,
            signature,
        }
    }
}

/// A signed bundle that has not been verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBundle {
    content: BundleContent,
    signature: Signature,
}

impl KeyBundle {
    /// The signed fields (unverified).
    pub fn content(&self) -> &BundleContent {
        &self.content
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The wire encoding: the to-be-signed bytes, then the 64-byte signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = self.content.tbs();
        w.raw(&self.signature.to_bytes());
        w.into_bytes()
    }

    /// Strict decoding (SPEC.md §5.1): known version (1 is refused), exact
    /// lengths, no trailing bytes, identity key a valid Ed25519 point. The
    /// keys are checked by [`Self::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistrationError> {
        let mut r = Reader::new(bytes);
        let malformed = RegistrationError::Malformed;
        let version = r.u8().map_err(malformed)?;
        if version != BUNDLE_VERSION {
            return Err(RegistrationError::UnsupportedVersion(version));
        }
        let owner = DeviceAddress::decode(&mut r).map_err(malformed)?;
        let identity_bytes: [u8; 32] = r.array().map_err(malformed)?;
        let sealing_key = SealingPublicKey::from_bytes(r.array().map_err(malformed)?);
        let sealing_key_id = SealingKeyId::from_bytes(r.array::<KEY_ID_LEN>().map_err(malformed)?);
        let kem_key =
            UncheckedKemKey::from_bytes(r.array::<KEM_ENCAPSULATION_KEY_LEN>().map_err(malformed)?);
        let kem_key_id = KemKeyId::from_bytes(r.array::<KEM_KEY_ID_LEN>().map_err(malformed)?);
        let not_before = Timestamp::from_unix_seconds(r.u64().map_err(malformed)?);
        let not_after = Timestamp::from_unix_seconds(r.u64().map_err(malformed)?);
        let signature = Signature::from_bytes(r.array::<SIGNATURE_LEN>().map_err(malformed)?);
        r.finish().map_err(malformed)?;
        let identity_key = IdentityPublicKey::from_bytes(&identity_bytes)
            .map_err(|_| RegistrationError::InvalidIdentityKey)?;
        Ok(Self {
            content: BundleContent {
                owner,
                identity_key,
                sealing_key,
                sealing_key_id,
                kem_key,
                kem_key_id,
                not_before,
                not_after,
            },
            signature,
        })
    }

    /// Every registration check of SPEC.md §5.3, in order. Pure: the
    /// expected owner (the authenticated uploader, or the device a peer asked
    /// for), the policy, `now`, the pinned identity key and the directory are
    /// arguments.
    pub fn verify(
        self,
        expected_owner: &ExpectedOwner,
        policy: &RegistrationPolicy,
        now: Timestamp,
        pinned_identity: Option<&IdentityPublicKey>,
        directory: &impl KeyDirectory,
    ) -> Result<VerifiedBundle, RegistrationError> {
        let c = &self.content;
        c.identity_key
            .verify_labeled(labels::sig::KEY_BUNDLE, c.tbs().as_bytes(), &self.signature)
            .map_err(|_| RegistrationError::BadSignature)?;
        check_owner(expected_owner, &c.owner)?;
        check_x25519_key(&c.sealing_key, c.sealing_key_id)?;
        let kem_key = c
            .kem_key
            .validate()
            .map_err(|_| RegistrationError::InvalidKemKey)?;
        if kem_key.key_id() != c.kem_key_id {
            return Err(RegistrationError::WrongKemKeyId);
        }
        check_window(policy, now, c.not_before, c.not_after)?;
        check_pinned_and_directory(
            pinned_identity,
            directory,
            &c.identity_key,
            &c.sealing_key,
            &c.owner,
        )?;
        Ok(VerifiedBundle {
            bundle: self,
            kem_key,
        })
    }
}

/// A bundle that passed [`KeyBundle::verify`]. Sessions are built only from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    bundle: KeyBundle,
    kem_key: KemEncapsulationKey,
}

impl VerifiedBundle {
    /// A bundle verified once before and kept in an account's sealed state:
    /// its signature and KEM key are checked again; its validity window is
    /// not (expiry is checked whenever it is used).
    pub(crate) fn from_storage(bundle: KeyBundle) -> Result<Self, RegistrationError> {
        let c = &bundle.content;
        c.identity_key
            .verify_labeled(
                labels::sig::KEY_BUNDLE,
                c.tbs().as_bytes(),
                &bundle.signature,
            )
            .map_err(|_| RegistrationError::BadSignature)?;
        let kem_key = c
            .kem_key
            .validate()
            .map_err(|_| RegistrationError::InvalidKemKey)?;
        Ok(Self { bundle, kem_key })
    }

    /// The device the keys belong to.
    pub fn owner(&self) -> &DeviceAddress {
        &self.bundle.content.owner
    }

    /// The verified identity key.
    pub fn identity_key(&self) -> &IdentityPublicKey {
        &self.bundle.content.identity_key
    }

    /// The verified sealing key.
    pub fn sealing_key(&self) -> &SealingPublicKey {
        &self.bundle.content.sealing_key
    }

    /// The sealing key's id.
    pub fn sealing_key_id(&self) -> SealingKeyId {
        self.bundle.content.sealing_key_id
    }

    /// The verified ML-KEM-768 encapsulation key.
    pub fn kem_key(&self) -> &KemEncapsulationKey {
        &self.kem_key
    }

    /// The KEM key's id.
    pub fn kem_key_id(&self) -> KemKeyId {
        self.bundle.content.kem_key_id
    }

    /// The validity window `[not_before, not_after)`.
    pub fn validity(&self) -> (Timestamp, Timestamp) {
        (
            self.bundle.content.not_before,
            self.bundle.content.not_after,
        )
    }

    /// The bundle as received.
    pub fn bundle(&self) -> &KeyBundle {
        &self.bundle
    }
}
