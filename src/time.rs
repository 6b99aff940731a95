//! Time as a value: the library never reads a clock; callers pass [`Timestamp`]s.
//!
//! ```
//! use letterseal::time::Timestamp;
//! let t = Timestamp::from_unix_seconds(1_800_000_000);
//! assert_eq!(t.saturating_add(60).unix_seconds(), 1_800_000_060);
//! ```

use core::fmt;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), as a `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp from Unix seconds.
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Self(seconds)
    }

    /// The Unix seconds.
    pub const fn unix_seconds(self) -> u64 {
        self.0
    }

    /// `self + seconds`, saturating at the largest timestamp.
    pub const fn saturating_add(self, seconds: u64) -> Self {
        Self(self.0.saturating_add(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}
