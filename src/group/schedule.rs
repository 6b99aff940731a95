//! The values an epoch derives (SPEC.md §8.3, §8.4, §8.5, §8.8): transcript,
//! epoch tag, confirmation, wrap context, wrap list hash, the secret tree and
//! sender chains.

use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::roster::{GroupId, RosterHash};
use crate::codec::Writer;
use crate::ids::DeviceAddress;
use crate::kdf::Prk;
use crate::kdf::{derive_labeled, derive_labeled_from_parts};
use crate::labels;
use crate::message::keys::ChainKey;

/// Bytes of an epoch tag.
pub const EPOCH_TAG_LEN: usize = 16;
/// Bytes of a confirmation value.
pub const CONFIRMATION_LEN: usize = 32;

/// The hash of an epoch's signed core, which names the whole history
/// (SPEC.md §8.3). Public.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transcript(#[serde(with = "crate::serde_hex")] [u8; 32]);

impl Transcript {
    /// The transcript before epoch 1: 32 zero bytes.
    pub const NONE: Self = Self([0; 32]);

    /// `DeriveLabeled("", core, "group transcript", "", 32)`.
    pub fn of_core(core: &[u8]) -> Self {
        let mut out = [0u8; 32];
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 32-byte output: cannot fail"
        )]
        let _ = derive_labeled(b"", core, labels::kdf::GROUP_TRANSCRIPT, b"", &mut out);
        Self(out)
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `DeriveLabeled("", transcript, "epoch tag", "", 16)`.
    pub fn epoch_tag(&self) -> EpochTag {
        let mut out = [0u8; EPOCH_TAG_LEN];
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 16-byte output: cannot fail"
        )]
        let _ = derive_labeled(b"", &self.0, labels::kdf::EPOCH_TAG, b"", &mut out);
        EpochTag(out)
    }
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transcript(")?;
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The 16 bytes a group message carries to name its epoch's history
/// (SPEC.md §8.3, §8.8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EpochTag(#[serde(with = "crate::serde_hex")] [u8; EPOCH_TAG_LEN]);

impl EpochTag {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; EPOCH_TAG_LEN]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; EPOCH_TAG_LEN] {
        &self.0
    }
}

impl fmt::Debug for EpochTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochTag(")?;
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The 32-byte secret of one epoch. Zeroized on drop; `Debug` prints nothing.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct EpochSecret(#[serde(with = "crate::serde_hex")] pub(crate) [u8; 32]);

impl EpochSecret {
    /// Wraps 32 bytes (for test vectors; epochs draw theirs from the RNG).
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg(any(feature = "hazmat", test))]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes (for test vectors and wrapping).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `DeriveLabeled("", epoch secret, "epoch confirmation", core without
    /// its confirmation, 32)` (SPEC.md §8.3).
    pub fn confirmation(&self, core_before_confirmation: &[u8]) -> [u8; CONFIRMATION_LEN] {
        let mut out = [0u8; CONFIRMATION_LEN];
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 32-byte output: cannot fail"
        )]
        let _ = derive_labeled(
            b"",
            &self.0,
            labels::kdf::EPOCH_CONFIRMATION,
            core_before_confirmation,
            &mut out,
        );
        out
    }

    /// Whether `confirmation` is this secret's for the core, compared in
    /// constant time.
    pub fn confirms(&self, core_before_confirmation: &[u8], confirmation: &[u8; 32]) -> bool {
        let mut expected = self.confirmation(core_before_confirmation);
        let ok = bool::from(expected.ct_eq(confirmation));
        expected.zeroize();
        ok
    }
}

impl fmt::Debug for EpochSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochSecret(<secret>)")
    }
}

/// The context (and associated data) of a wrap (SPEC.md §8.4):
/// `lp8(group id) ‖ u64(epoch) ‖ previous transcript ‖ roster hash ‖ distributor address`.
pub fn wrap_context(
    group_id: &GroupId,
    epoch: u64,
    previous: &Transcript,
    roster_hash: &RosterHash,
    distributor: &DeviceAddress,
) -> Vec<u8> {
    let mut w = Writer::with_capacity(1 + 255 + 8 + 64 + 1 + 255 + 4);
    group_id.encode(&mut w);
    w.u64(epoch);
    w.raw(previous.as_bytes());
    w.raw(roster_hash.as_bytes());
    distributor.encode(&mut w);
    w.into_bytes()
}

/// `DeriveLabeled("", lp32(wrap_1) ‖ … ‖ lp32(wrap_m), "wrap list", "", 32)`
/// (SPEC.md §8.5).
pub fn wrap_list_hash<W: AsRef<[u8]>>(wraps: &[W]) -> [u8; 32] {
    // Fed to the extract in pieces: a 5,000-member list is ~6.5 MB, not copied.
    // Wraps are at most MAX_WRAP_LEN bytes when decoded; a longer-than-u32
    // one (which no decoder yields) contributes nothing, as an lp32 writer
    // would refuse it.
    let lengths: Vec<Option<[u8; 4]>> = wraps
        .iter()
        .map(|w| u32::try_from(w.as_ref().len()).ok().map(u32::to_be_bytes))
        .collect();
    let parts = wraps
        .iter()
        .zip(&lengths)
        .filter_map(|(wrap, len)| len.as_ref().map(|l| [&l[..], wrap.as_ref()]))
        .flatten();
    let mut out = [0u8; 32];
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 32-byte output: cannot fail"
    )]
    let _ = derive_labeled_from_parts(b"", parts, labels::kdf::WRAP_LIST, b"", &mut out);
    out
}

/// The secret of one node of an epoch's secret tree (SPEC.md §8.8).
/// Zeroized on drop; `Debug` prints nothing.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct NodeSecret(#[serde(with = "crate::serde_hex")] pub(crate) [u8; 32]);

impl NodeSecret {
    /// The raw bytes (for test vectors and saved states).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for NodeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeSecret(<secret>)")
    }
}

/// Where the tree node over roster positions `lo..hi` splits (SPEC.md §8.8):
/// `lo` plus the largest power of two below `hi − lo`. `None` for a leaf
/// (or an empty range).
pub fn tree_split(lo: u32, hi: u32) -> Option<u32> {
    let width = hi.checked_sub(lo).filter(|w| *w >= 2)?;
    let half = 1u32 << (31 - (width - 1).leading_zeros());
    Some(lo + half)
}

/// `ExpandLabeled(parent, "group tree", u32(lo) ‖ u32(hi), 32)`: the secret
/// of the child node over `lo..hi` (SPEC.md §8.8).
pub fn tree_child(parent: &[u8; 32], lo: u32, hi: u32) -> NodeSecret {
    let mut context = [0u8; 8];
    let (l, h) = context.split_at_mut(4);
    l.copy_from_slice(&lo.to_be_bytes());
    h.copy_from_slice(&hi.to_be_bytes());
    let mut out = [0u8; 32];
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 32-byte output: cannot fail"
    )]
    let _ = Prk::from_bytes(*parent).expand_labeled(labels::kdf::GROUP_TREE, &context, &mut out);
    NodeSecret(out)
}

/// Whether `lo..hi` is a node of the tree over `0..n` (reached from the root
/// by splits).
pub(crate) fn is_tree_node(n: u32, lo: u32, hi: u32) -> bool {
    let (mut l, mut h) = (0u32, n);
    loop {
        if (l, h) == (lo, hi) {
            return lo < hi;
        }
        // Descend towards the range. One that is not inside the current node
        // (or spans its split) never equals a descendant: the walk ends at a
        // leaf with `false`.
        match tree_split(l, h) {
            Some(m) if hi <= m => h = m,
            Some(m) => l = m,
            None => return false,
        }
    }
}

/// The leaf secret of roster position `i` in an epoch of `n` members,
/// derived from the epoch secret (SPEC.md §8.8). States derive leaves lazily
/// and delete what they split; this one-shot form is for test vectors and
/// for tests that play a member who kept the epoch secret.
pub fn tree_leaf(root: &EpochSecret, n: u32, i: u32) -> Option<NodeSecret> {
    if i >= n {
        return None;
    }
    let (mut lo, mut hi) = (0u32, n);
    let mut secret = NodeSecret(root.0);
    while let Some(m) = tree_split(lo, hi) {
        (lo, hi) = if i < m { (lo, m) } else { (m, hi) };
        secret = tree_child(&secret.0, lo, hi);
    }
    Some(secret)
}

/// A sender's first chain key in one epoch:
/// `DeriveLabeled("", leaf, "group sender chain", transcript ‖ sender
/// address ‖ sender identity key, 32)` (SPEC.md §8.8).
pub fn sender_chain(
    leaf: &NodeSecret,
    transcript: &Transcript,
    sender: &DeviceAddress,
    sender_identity: &[u8; 32],
) -> ChainKey {
    let mut context = Writer::with_capacity(32 + 1 + 255 + 4 + 32);
    context.raw(transcript.as_bytes());
    sender.encode(&mut context);
    context.raw(sender_identity);
    let mut out = [0u8; 32];
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 32-byte output: cannot fail"
    )]
    let _ = derive_labeled(
        b"",
        &leaf.0,
        labels::kdf::GROUP_SENDER_CHAIN,
        context.as_bytes(),
        &mut out,
    );
    ChainKey::from_bytes(out)
}

/// An epoch's secret tree (SPEC.md §8.8): the nodes not yet split, ascending
/// and disjoint. It starts as the root (the epoch secret); taking a leaf
/// splits the nodes on its path, keeps their other halves and deletes the
/// rest, so that what a state holds opens only messages not yet received.
#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
pub(crate) struct SecretTree {
    pub(crate) nodes: Vec<TreeNode>,
}

/// One unsplit node of a secret tree: roster positions `lo..hi`.
#[derive(Clone)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
pub(crate) struct TreeNode {
    pub(crate) lo: u32,
    pub(crate) hi: u32,
    pub(crate) secret: NodeSecret,
}

impl SecretTree {
    /// The tree of an epoch of `n` members: its root.
    pub(crate) fn new(n: u32, root: &EpochSecret) -> Self {
        Self {
            nodes: alloc::vec![TreeNode {
                lo: 0,
                hi: n,
                secret: NodeSecret(root.0),
            }],
        }
    }

    /// The epoch secret, while the root is unsplit.
    pub(crate) fn root(&self, n: u32) -> Option<&NodeSecret> {
        match self.nodes.as_slice() {
            [only] if only.lo == 0 && only.hi == n => Some(&only.secret),
            _ => None,
        }
    }

    /// Takes the leaf of position `i` out of the tree; `None` if no node
    /// covers it (its leaf was taken before).
    pub(crate) fn take_leaf(&mut self, i: u32) -> Option<NodeSecret> {
        let k = self
            .nodes
            .iter()
            .position(|node| node.lo <= i && i < node.hi)?;
        let node = self.nodes.remove(k);
        let (mut lo, mut hi, mut secret) = (node.lo, node.hi, node.secret);
        while let Some(m) = tree_split(lo, hi) {
            let (keep, other) = if i < m {
                ((lo, m), (m, hi))
            } else {
                ((m, hi), (lo, m))
            };
            let sibling = TreeNode {
                lo: other.0,
                hi: other.1,
                secret: tree_child(&secret.0, other.0, other.1),
            };
            // No node starts where the sibling does (it lies inside the node just removed).
            let (Ok(at) | Err(at)) = self.nodes.binary_search_by_key(&sibling.lo, |node| node.lo);
            self.nodes.insert(at, sibling);
            secret = tree_child(&secret.0, keep.0, keep.1);
            (lo, hi) = keep;
        }
        Some(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed wrap-list hash equals the labelled derivation over the
    /// list encoded as one `lp32(wrap_1) ‖ … ‖ lp32(wrap_m)` buffer.
    #[test]
    fn wrap_list_hash_is_the_derivation_over_the_lp32_list() {
        let wraps: [&[u8]; 4] = [b"", b"a", &[0x5a; 300], b"last wrap"];
        for m in 0..=wraps.len() {
            let mut list = Writer::with_capacity(400);
            for wrap in &wraps[..m] {
                list.bytes_u32(wrap).unwrap();
            }
            let mut expected = [0u8; 32];
            derive_labeled(
                b"",
                list.as_bytes(),
                labels::kdf::WRAP_LIST,
                b"",
                &mut expected,
            )
            .unwrap();
            assert_eq!(wrap_list_hash(&wraps[..m]), expected, "{m} wraps");
        }
        // The boundaries are part of the hash.
        let split_late: [&[u8]; 2] = [b"ab", b"c"];
        let split_early: [&[u8]; 2] = [b"a", b"bc"];
        assert_ne!(wrap_list_hash(&split_late), wrap_list_hash(&split_early));
    }

    /// The nodes of the tree over `0..n`, by walking it from the root.
    fn nodes_of(n: u32) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut todo = alloc::vec![(0, n)];
        while let Some((lo, hi)) = todo.pop() {
            out.push((lo, hi));
            if let Some(m) = tree_split(lo, hi) {
                todo.push((lo, m));
                todo.push((m, hi));
            }
        }
        out
    }

    #[test]
    fn tree_nodes_are_exactly_the_ranges_reached_by_splits() {
        // n = 0: the only range reached is empty, and no node is empty.
        for n in 0..=12u32 {
            let nodes = nodes_of(n);
            for lo in 0..=n + 1 {
                for hi in 0..=n + 1 {
                    assert_eq!(
                        is_tree_node(n, lo, hi),
                        lo < hi && nodes.contains(&(lo, hi)),
                        "n = {n}: {lo}..{hi}"
                    );
                }
            }
        }
    }

    /// Taking leaves in any order gives each position its one-shot leaf, and
    /// leaves the unsplit nodes ascending, disjoint and covering exactly the
    /// positions not yet taken.
    #[test]
    fn taking_leaves_in_any_order_keeps_the_tree_consistent() {
        let root = EpochSecret([0x42; 32]);
        for n in 1..=9u32 {
            // A few orders: ascending, descending, and interleaved from both ends.
            let ascending: Vec<u32> = (0..n).collect();
            let descending: Vec<u32> = (0..n).rev().collect();
            let interleaved: Vec<u32> = (0..n)
                .map(|k| if k % 2 == 0 { k / 2 } else { n - 1 - k / 2 })
                .collect();
            for order in [ascending, descending, interleaved] {
                let mut tree = SecretTree::new(n, &root);
                let mut taken = Vec::new();
                for &i in &order {
                    let leaf = tree.take_leaf(i).unwrap();
                    assert_eq!(leaf.0, tree_leaf(&root, n, i).unwrap().0, "n {n} leaf {i}");
                    assert!(tree.take_leaf(i).is_none(), "leaf {i} taken twice");
                    taken.push(i);
                    let mut covered = Vec::new();
                    for pair in tree.nodes.windows(2) {
                        assert!(pair[0].hi <= pair[1].lo, "nodes ascending and disjoint");
                    }
                    for node in &tree.nodes {
                        assert!(is_tree_node(n, node.lo, node.hi));
                        covered.extend(node.lo..node.hi);
                    }
                    let rest: Vec<u32> = (0..n).filter(|p| !taken.contains(p)).collect();
                    assert_eq!(covered, rest, "n {n} after {taken:?}");
                }
            }
        }
    }
}
