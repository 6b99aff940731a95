//! Key commitment (BRIEF requirement "key commitment", SPEC.md §7.4–7.5): one
//! sealed message opens under at most one key.
//!
//! AES-256-GCM alone is not key-committing: given two (key, nonce) pairs, anyone
//! who knows both keys can build a ciphertext whose tag verifies under both
//! ("invisible salamanders"). These tests build such a ciphertext against real
//! LS3 keys and show that the commitment check (check 7 of §7.5) is what rejects
//! it.
//!
//! **Scenario: unknown key share through a malicious server.** Alice (A) and
//! Carol (C) collude. C's bundle carries A's sealing public key, signed by C's
//! own identity key; a server that skipped the duplicate check (§5.3 check 11;
//! modelled by verifying with [`NoDirectory`]) accepts it. Bob (B) has a session
//! with A and one with C, and both peers use the *same* sealing key, hence the
//! same key id and the same X25519 shared secret. The chain keys still differ,
//! because `party(S)` binds the sender's address and identity key (§7.4):
//!
//! ```text
//! shared = X25519(sk_A, pk_B)
//! chain1 = DeriveLabeled("", shared, "pairwise chain", party(A) ‖ party(B), 32)   (A → B)
//! chain2 = DeriveLabeled("", shared, "pairwise chain", party(C) ‖ party(B), 32)   (C → B)
//! ```
//!
//! A knows `sk_A`, so the colluders can compute both chains with the public
//! low-level API ([`chain_key`], [`message_keys`]) and, for one header `h`, both
//! message key sets `K1` (A → B) and `K2` (C → B). The wire message carries `h`
//! in the clear and no sender address, so the same bytes reach both of B's
//! sessions and pass every check up to the commitment (key ids known, counter
//! fresh).
//!
//! **Forgery.** For key `K`, `H = E_K(0^128)`, `J0 = nonce ‖ u32(1)` and
//! GHASH over the blocks `X_1 … X_m` (AAD, ciphertext, length block),
//! `T = E_K(J0) ⊕ Σ X_i·H^(m−i+1)` in GF(2^128). The tag is affine in every
//! ciphertext block: with block `j` of `n` set to `x`,
//! `T(x) = T(0) ⊕ x·H^(n−j+1)`. So
//!
//! ```text
//! T1(x) = T2(x)  ⇔  x = (T1(0) ⊕ T2(0)) · (H1^(n−j+1) ⊕ H2^(n−j+1))^(−1)
//! ```
//!
//! The body has three blocks: block 0 is chosen to decrypt to a chosen text
//! under K1, block 2 to another chosen text under K2, and block 1 is solved
//! for. The field arithmetic (GCM's reflected bit order, inversion as
//! `a^(2^128 − 2)`) and the GCM model are written here from the standard and
//! checked against [`letterseal::aead::seal`] first, so a wrong model fails
//! loudly instead of making the attack vacuously "rejected".
//!
//! **What the tests show.** The forged `C* ‖ T` opens with the bare AEAD under
//! both K1 and K2, to different plaintexts. B's session with A opens
//! `h ‖ C* ‖ T` (h carries K1's commitment); B's session with C rejects the same
//! bytes with `CommitmentMismatch`. Committing to K2 instead does not help: a
//! header commits to exactly one of the two keys, so no header and ciphertext
//! open in both sessions. Failed opens leave the session state unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aes_gcm::aes::Aes256;
use aes_gcm::aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use letterseal::aead::{self, AeadKey, AeadNonce, TAG_LEN};
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::SealingPublicKey;
use letterseal::pairwise::kdf::{MessageKeys, PartyKeys, chain_key, message_keys};
use letterseal::pairwise::{ContentType, Header, OpenError, Session};
use letterseal::registration::{
    BundleContent, NoDirectory, RegistrationError, RegistrationPolicy, VerifiedBundle,
};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

// ---------------------------------------------------------------------------
// GF(2^128) in GCM's bit order (SP 800-38D §6.3): a block read big-endian as a
// u128; the coefficient of x^0 is the most significant bit.
// ---------------------------------------------------------------------------

/// The multiplicative identity: x^0, i.e. the leftmost bit.
const ONE: u128 = 1 << 127;
/// x^128 = x^7 + x^2 + x + 1, reflected: 0xe1 ‖ 0^120.
const R: u128 = 0xe1 << 120;

/// Multiplication (SP 800-38D Algorithm 1).
fn gf_mul(x: u128, y: u128) -> u128 {
    let mut z = 0;
    let mut v = y;
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ R } else { v >> 1 };
    }
    z
}

fn gf_pow(mut base: u128, mut exp: u128) -> u128 {
    let mut acc = ONE;
    while exp != 0 {
        if exp & 1 == 1 {
            acc = gf_mul(acc, base);
        }
        base = gf_mul(base, base);
        exp >>= 1;
    }
    acc
}

/// Inverse of a non-zero element: a^(2^128 − 2).
fn gf_inv(a: u128) -> u128 {
    assert_ne!(a, 0, "zero has no inverse");
    gf_pow(a, u128::MAX - 1)
}

// ---------------------------------------------------------------------------
// A from-the-standard model of AES-256-GCM with a 96-bit nonce.
// ---------------------------------------------------------------------------

/// One (key, nonce) pair of AES-256-GCM, with the raw block cipher exposed.
struct Gcm {
    cipher: Aes256,
    nonce: [u8; 12],
    /// The hash key `E_K(0^128)`.
    h: u128,
}

impl Gcm {
    fn new(key: &AeadKey, nonce: &AeadNonce) -> Self {
        let cipher = Aes256::new(&Array::from(*key.as_bytes()));
        let mut gcm = Self {
            cipher,
            nonce: *nonce.as_bytes(),
            h: 0,
        };
        gcm.h = gcm.encrypt_block([0; 16]);
        gcm
    }

    fn encrypt_block(&self, block: [u8; 16]) -> u128 {
        let mut block = Array::from(block);
        self.cipher.encrypt_block(&mut block);
        u128::from_be_bytes(block.into())
    }

    /// `E_K(nonce ‖ u32(counter))`; counter 1 is J0, the tag mask.
    fn counter_block(&self, counter: u32) -> u128 {
        let mut block = [0u8; 16];
        block[..12].copy_from_slice(&self.nonce);
        block[12..].copy_from_slice(&counter.to_be_bytes());
        self.encrypt_block(block)
    }

    /// The CTR keystream for `len` bytes, starting at inc32(J0).
    fn keystream(&self, len: usize) -> Vec<u8> {
        (0..len.div_ceil(16))
            .flat_map(|i| {
                self.counter_block(2 + u32::try_from(i).unwrap())
                    .to_be_bytes()
            })
            .take(len)
            .collect()
    }

    fn tag(&self, aad: &[u8], ciphertext: &[u8]) -> u128 {
        self.counter_block(1) ^ ghash(self.h, aad, ciphertext)
    }

    /// `ciphertext ‖ tag`, as [`aead::seal`] computes it.
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut out = xor(plaintext, &self.keystream(plaintext.len()));
        let tag = self.tag(aad, &out);
        out.extend_from_slice(&tag.to_be_bytes());
        out
    }
}

/// Zero-padded 16-byte blocks of `data`.
fn blocks(data: &[u8]) -> impl Iterator<Item = u128> + '_ {
    data.chunks(16).map(|chunk| {
        let mut block = [0u8; 16];
        block[..chunk.len()].copy_from_slice(chunk);
        u128::from_be_bytes(block)
    })
}

/// GHASH_H(A, C) (SP 800-38D §6.4, §7.1 step 5), by Horner's rule.
fn ghash(h: u128, aad: &[u8], ciphertext: &[u8]) -> u128 {
    let bits = |bytes: &[u8]| u128::from(u64::try_from(bytes.len()).unwrap() * 8);
    let lengths = (bits(aad) << 64) | bits(ciphertext);
    blocks(aad)
        .chain(blocks(ciphertext))
        .chain([lengths])
        .fold(0, |y, x| gf_mul(y ^ x, h))
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// A ciphertext `C* ‖ T` valid under both `g1` and `g2` with the same `aad`.
///
/// `ciphertext` is whole blocks; block `solve` is overwritten with the unique
/// value that makes the two tags equal (see the module documentation).
fn forge_two_key_ciphertext(
    g1: &Gcm,
    g2: &Gcm,
    aad: &[u8],
    mut ciphertext: Vec<u8>,
    solve: usize,
) -> Vec<u8> {
    assert_eq!(ciphertext.len() % 16, 0);
    let n = ciphertext.len() / 16;
    assert!(solve < n);
    let slot = solve * 16..solve * 16 + 16;
    ciphertext[slot.clone()].fill(0);
    // Block `solve` is multiplied by H^(n − solve + 1): the blocks after it
    // and the length block each contribute one more factor H.
    let power = u128::try_from(n - solve + 1).unwrap();
    let coefficient = gf_pow(g1.h, power) ^ gf_pow(g2.h, power);
    assert_ne!(coefficient, 0, "degenerate keys (probability 2^-128)");
    let difference = g1.tag(aad, &ciphertext) ^ g2.tag(aad, &ciphertext);
    let x = gf_mul(difference, gf_inv(coefficient));
    ciphertext[slot].copy_from_slice(&x.to_be_bytes());

    let tag = g1.tag(aad, &ciphertext);
    assert_eq!(tag, g2.tag(aad, &ciphertext), "the two tags must coincide");
    ciphertext.extend_from_slice(&tag.to_be_bytes());
    ciphertext
}

// ---------------------------------------------------------------------------
// The scenario.
// ---------------------------------------------------------------------------

const T0: u64 = 1_800_000_000;
const LIFETIME: u64 = 30 * 86_400;

/// What B sees under K1 (from A) in block 0, and under K2 (from C) in block 2.
const TEXT_UNDER_K1: &[u8; 16] = b"from A: hello B!";
const TEXT_UNDER_K2: &[u8; 16] = b"from C: bye, B!!";

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

fn address(user: &str) -> DeviceAddress {
    DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1))
}

struct World {
    rng: ChaCha20Rng,
    alice: DeviceKeys,
    bob: DeviceKeys,
    alice_bundle: VerifiedBundle,
    bob_bundle: VerifiedBundle,
    /// Carol's bundle: her address and identity key, Alice's sealing key.
    carol_bundle: VerifiedBundle,
}

fn world(seed: u8) -> World {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let policy = RegistrationPolicy::default();
    let device = |name: &str, rng: &mut ChaCha20Rng| {
        let mut keys = DeviceKeys::generate(rng, address(name));
        let bundle = keys.add_sealing_key(rng, now(), LIFETIME);
        let verified = bundle
            .verify(
                &keys.address().clone().into(),
                &policy,
                now(),
                None,
                &NoDirectory,
            )
            .unwrap();
        (keys, verified)
    };
    let (alice, alice_bundle) = device("alice", &mut rng);
    let (bob, bob_bundle) = device("bob", &mut rng);
    let carol = DeviceKeys::generate(&mut rng, address("carol"));

    // Carol signs a bundle for Alice's sealing key with her own identity key.
    let alice_key = *alice_bundle.sealing_key();
    let rogue = BundleContent::new(
        carol.address().clone(),
        carol.identity().public_key(),
        alice_key,
        alice_bundle.kem_key(),
        now(),
        now().saturating_add(LIFETIME),
    )
    .sign(carol.identity());

    // An honest server refuses it (check 11) ...
    let directory =
        |key: &SealingPublicKey| (*key == alice_key).then(|| alice_bundle.owner().clone());
    assert_eq!(
        rogue.clone().verify(
            &carol.address().clone().into(),
            &policy,
            now(),
            None,
            &directory
        ),
        Err(RegistrationError::DuplicateSealingKey)
    );
    // ... but every other check passes, so a server that skips the duplicate
    // check serves it, and Bob (who has no directory) accepts it.
    let carol_bundle = rogue
        .verify(
            &carol.address().clone().into(),
            &policy,
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    assert_eq!(
        carol_bundle.sealing_key_id(),
        alice_bundle.sealing_key_id(),
        "the key ids collide"
    );

    World {
        rng,
        alice,
        bob,
        alice_bundle,
        bob_bundle,
        carol_bundle,
    }
}

fn party(bundle: &VerifiedBundle) -> PartyKeys<'_> {
    PartyKeys {
        address: bundle.owner(),
        identity_key: bundle.identity_key(),
        sealing_key: bundle.sealing_key(),
    }
}

impl World {
    /// Bob's two sessions: with Alice and with Carol.
    fn bob_sessions(&self) -> (Session, Session) {
        (
            Session::new(&self.bob, &self.alice_bundle).unwrap(),
            Session::new(&self.bob, &self.carol_bundle).unwrap(),
        )
    }

    /// A header from "A or C" (the same key id) to Bob's key, no commitment yet.
    fn header(&mut self, counter: u64) -> Header {
        let mut salt = [0u8; 16];
        self.rng.fill_bytes(&mut salt);
        Header {
            content_type: ContentType::Text,
            sender_key_id: self.alice_bundle.sealing_key_id(),
            recipient_key_id: self.bob_bundle.sealing_key_id(),
            counter,
            salt,
            commitment: [0; 32],
        }
    }

    /// What the colluders compute from Alice's secret: the message keys of
    /// `header` in the A → B direction (K1) and in the C → B direction (K2).
    fn both_message_keys(&self, header: &Header) -> (MessageKeys, MessageKeys) {
        let secret = self.alice.sealing_key(&header.sender_key_id).unwrap();
        let shared = secret.agree(self.bob_bundle.sealing_key()).unwrap();
        let bob = party(&self.bob_bundle);
        let chain_ab = chain_key(&shared, &party(&self.alice_bundle), &bob);
        let chain_cb = chain_key(&shared, &party(&self.carol_bundle), &bob);
        // One shared secret, two chains: the identities are bound (§7.4).
        assert_ne!(chain_ab.as_bytes(), chain_cb.as_bytes());
        let bound = header.bound_fields();
        let k1 = message_keys(&chain_ab, &header.salt, &bound);
        let k2 = message_keys(&chain_cb, &header.salt, &bound);
        assert_ne!(k1.aead_key.as_bytes(), k2.aead_key.as_bytes());
        assert_ne!(k1.commitment, k2.commitment);
        (k1, k2)
    }
}

/// The three-block body for `aad`: block 0 reads [`TEXT_UNDER_K1`] under
/// `k1`, block 2 reads [`TEXT_UNDER_K2`] under `k2`, block 1 makes both tags
/// equal. Returns `C* ‖ T`.
fn forge_body(k1: &MessageKeys, k2: &MessageKeys, aad: &[u8]) -> Vec<u8> {
    let g1 = Gcm::new(&k1.aead_key, &k1.nonce);
    let g2 = Gcm::new(&k2.aead_key, &k2.nonce);
    let mut ciphertext = vec![0u8; 48];
    ciphertext[..16].copy_from_slice(&xor(TEXT_UNDER_K1, &g1.keystream(16)));
    ciphertext[32..].copy_from_slice(&xor(TEXT_UNDER_K2, &g2.keystream(48)[32..]));
    forge_two_key_ciphertext(&g1, &g2, aad, ciphertext, 1)
}

fn wire(header: &Header, body: &[u8]) -> Vec<u8> {
    let mut out = header.encode().to_vec();
    out.extend_from_slice(body);
    out
}

fn state(session: &Session) -> String {
    serde_json::to_string(session).unwrap()
}

// ---------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------

#[test]
fn field_arithmetic() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    // x · x^127 = x^128 = 1 + x + x^2 + x^7: the reduction constant.
    assert_eq!(gf_mul(ONE >> 1, 1), R);
    for _ in 0..16 {
        let a = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
        let b = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
        assert_eq!(gf_mul(a, ONE), a);
        assert_eq!(gf_mul(a, b), gf_mul(b, a));
        assert_eq!(gf_mul(a, gf_inv(a)), ONE);
        assert_eq!(gf_pow(a, 3), gf_mul(a, gf_mul(a, a)));
    }
}

/// The model must agree with the library byte for byte, or the forgery
/// below would prove nothing.
#[test]
fn gcm_model_matches_the_library() {
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    for (aad_len, plaintext_len) in [
        (0, 0),
        (0, 16),
        (1, 1),
        (16, 15),
        (92, 17),
        (92, 48),
        (100, 100),
    ] {
        let mut key = [0u8; 32];
        let mut nonce = [0u8; 12];
        let mut aad = vec![0u8; aad_len];
        let mut plaintext = vec![0u8; plaintext_len];
        rng.fill_bytes(&mut key);
        rng.fill_bytes(&mut nonce);
        rng.fill_bytes(&mut aad);
        rng.fill_bytes(&mut plaintext);
        let key = AeadKey::from_bytes(key);
        let nonce = AeadNonce::from_bytes(nonce);
        let model = Gcm::new(&key, &nonce).seal(&aad, &plaintext);
        assert_eq!(model, aead::seal(&key, &nonce, &aad, &plaintext));
    }
}

#[test]
fn commitment_rejects_a_ciphertext_valid_under_two_keys() {
    let mut w = world(10);
    let (mut from_alice, mut from_carol) = w.bob_sessions();

    let mut header = w.header(7);
    let (k1, k2) = w.both_message_keys(&header);
    header.commitment = k1.commitment;
    let aad = header.encode();
    let body = forge_body(&k1, &k2, &aad);
    assert_eq!(body.len(), 48 + TAG_LEN);

    // (1) The bare AEAD opens C* ‖ T under both keys, to different plaintexts.
    let p1 = aead::open(&k1.aead_key, &k1.nonce, &aad, &body).unwrap();
    let p2 = aead::open(&k2.aead_key, &k2.nonce, &aad, &body).unwrap();
    assert_eq!(&p1[..16], TEXT_UNDER_K1);
    assert_eq!(&p2[32..], TEXT_UNDER_K2);
    assert_ne!(p1, p2);

    let message = wire(&header, &body);

    // (3) Bob's session with Carol: the key ids are known (Carol's bundle has
    // Alice's key), the counter is fresh, and the tag verifies under K2 as
    // shown above, so only the commitment check stands between the forgery
    // and the K2 plaintext.
    let before = state(&from_carol);
    assert_eq!(
        from_carol.open(&w.bob, now(), &message, b"").unwrap_err(),
        OpenError::CommitmentMismatch
    );
    assert_eq!(state(&from_carol), before, "a failed open changes no state");

    // (2) Bob's session with Alice opens the same bytes to the K1 plaintext.
    let opened = from_alice.open(&w.bob, now(), &message, b"").unwrap();
    assert_eq!(opened.plaintext.as_slice(), p1.as_slice());
    assert_eq!(opened.counter, 7);
    assert_eq!(opened.sender_key_id, w.alice_bundle.sealing_key_id());

    // Alice accepting does not open the door for Carol: still rejected.
    assert_eq!(
        from_carol.open(&w.bob, now(), &message, b"").unwrap_err(),
        OpenError::CommitmentMismatch
    );
    assert_eq!(state(&from_carol), before);
}

#[test]
fn committing_to_the_other_key_does_not_help() {
    let mut w = world(11);
    let (mut from_alice, mut from_carol) = w.bob_sessions();

    let mut header = w.header(7);
    let (k1, k2) = w.both_message_keys(&header);
    header.commitment = k1.commitment;
    let body = forge_body(&k1, &k2, &header.encode());

    // (4) Swap in K2's commitment, keeping C* ‖ T. The commitment is part of
    // the AAD, so the header change breaks the tag under both keys.
    let mut swapped = header.clone();
    swapped.commitment = k2.commitment;
    let swapped_aad = swapped.encode();
    assert!(aead::open(&k1.aead_key, &k1.nonce, &swapped_aad, &body).is_err());
    assert!(aead::open(&k2.aead_key, &k2.nonce, &swapped_aad, &body).is_err());
    let message = wire(&swapped, &body);

    let alice_before = state(&from_alice);
    let carol_before = state(&from_carol);
    // The session with Alice derives K1 (the commitment is not among the bound
    // fields, so K1 is unchanged) and sees K2's commitment: check 7 fails
    // before the tag (which would fail too, see above) is looked at.
    assert_eq!(
        from_alice.open(&w.bob, now(), &message, b"").unwrap_err(),
        OpenError::CommitmentMismatch
    );
    // The session with Carol derives K2, whose commitment now matches, but the
    // AAD (the header) changed since the tag was computed.
    assert_eq!(
        from_carol.open(&w.bob, now(), &message, b"").unwrap_err(),
        OpenError::AuthenticationFailed
    );
    assert_eq!(state(&from_alice), alice_before);
    assert_eq!(state(&from_carol), carol_before);

    // Re-solving the body for the swapped header gives a ciphertext valid
    // under both keys again, but now only Carol's session opens it: a header
    // commits to exactly one of K1 and K2.
    let body = forge_body(&k1, &k2, &swapped_aad);
    assert!(aead::open(&k1.aead_key, &k1.nonce, &swapped_aad, &body).is_ok());
    let p2 = aead::open(&k2.aead_key, &k2.nonce, &swapped_aad, &body).unwrap();
    let message = wire(&swapped, &body);
    assert_eq!(
        from_alice.open(&w.bob, now(), &message, b"").unwrap_err(),
        OpenError::CommitmentMismatch
    );
    assert_eq!(state(&from_alice), alice_before);
    // This also confirms K2 is exactly what Bob's session with Carol derives.
    let opened = from_carol.open(&w.bob, now(), &message, b"").unwrap();
    assert_eq!(opened.plaintext.as_slice(), p2.as_slice());
    assert_eq!(&opened.plaintext[32..], TEXT_UNDER_K2);
}
