//! What every LS3 message kind shares, whatever carries it (pairwise sessions, groups,
//! attachments, state blobs): the salt and key-commitment sizes (SPEC.md §3.4), content types
//! (§7.2), the receiver's replay window (§7.5) and, with the `hazmat` feature, the message-key
//! derivation (`keys`).

mod content;
pub(crate) mod window;

#[cfg(feature = "hazmat")]
#[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
pub mod keys;
#[cfg(not(feature = "hazmat"))]
#[allow(unreachable_pub, reason = "public with the `hazmat` feature")]
pub(crate) mod keys;

pub use content::{APPLICATION_BASE, Chain, ContentType};
pub use window::{Delivery, ReplayWindow, WINDOW_SIZE, WindowError};

/// Length of the per-message salt (SPEC.md §3.4).
pub const SALT_LEN: usize = 16;
/// Length of the key commitment (SPEC.md §3.4).
pub const COMMITMENT_LEN: usize = 32;
