//! The receiver's replay window (SPEC.md §7.5).

use alloc::vec::Vec;

#[cfg(feature = "json-state")]
use serde::{Deserialize, Serialize};

use crate::codec::{Reader, Writer};
use crate::state::{StateError, check, field};

/// Number of counters below the highest one that are still accepted.
pub const WINDOW_SIZE: u64 = 1024;
const WORDS: usize = (WINDOW_SIZE / 64) as usize;

/// Why a counter was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowError {
    /// The counter was already accepted.
    Replay,
    /// The counter is `WINDOW_SIZE` or more below the highest accepted one.
    TooOld,
}

/// What accepting a counter tells the receiver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Counters skipped over by this message (messages not seen yet; they may
    /// still arrive late, within the window).
    pub skipped: u64,
    /// True if the message arrived after a higher counter (it fills a gap).
    pub late: bool,
}

/// Which counters of one direction have been accepted: the highest, and a
/// bitmap of the `WINDOW_SIZE` counters ending at it (bit `c mod WINDOW_SIZE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "json-state",
    serde(deny_unknown_fields, try_from = "WindowJson")
)]
pub struct ReplayWindow {
    highest: Option<u64>,
    seen: [u64; WORDS],
}

/// The JSON form, checked by [`ReplayWindow::validated`]. Every field is
/// required: a missing `highest` is an error, not "nothing received yet".
#[cfg(feature = "json-state")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowJson {
    #[serde(deserialize_with = "Option::deserialize")]
    highest: Option<u64>,
    seen: [u64; WORDS],
}

#[cfg(feature = "json-state")]
impl TryFrom<WindowJson> for ReplayWindow {
    type Error = StateError;
    fn try_from(json: WindowJson) -> Result<Self, StateError> {
        Self {
            highest: json.highest,
            seen: json.seen,
        }
        .validated("window")
    }
}

/// Length of a window's binary encoding (SPEC.md §12.2).
pub(crate) const WINDOW_ENCODED_LEN: usize = 1 + 8 + 8 * WORDS;

impl ReplayWindow {
    /// Checks the invariants: nothing seen before the first counter; the
    /// highest counter seen; no bit set for a counter above it (SPEC.md §12.2).
    pub(crate) fn validated(self, name: &'static str) -> Result<Self, StateError> {
        match self.highest {
            None => check(name, self.seen.iter().all(|w| *w == 0))?,
            Some(h) => {
                check(name, self.bit(h))?;
                if let Some(first_unused) = h.checked_add(1).filter(|&n| n < WINDOW_SIZE) {
                    check(name, (first_unused..WINDOW_SIZE).all(|c| !self.bit(c)))?;
                }
            }
        }
        Ok(self)
    }

    /// `u8(0 | 1) ‖ u64(highest, 0 if none) ‖ 16 × u64(bitmap words)`.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(u8::from(self.highest.is_some()));
        w.u64(self.highest.unwrap_or(0));
        for word in &self.seen {
            w.u64(*word);
        }
    }

    /// Strict decoding of [`Self::encode`], then [`Self::validated`].
    pub(crate) fn decode(r: &mut Reader<'_>, name: &'static str) -> Result<Self, StateError> {
        let flag = field(name, r.u8())?;
        let value = field(name, r.u64())?;
        let highest = match flag {
            0 => {
                check(name, value == 0)?;
                None
            }
            1 => Some(value),
            _ => return Err(StateError::Invalid { field: name }),
        };
        let mut seen = [0u64; WORDS];
        for word in &mut seen {
            *word = field(name, r.u64())?;
        }
        Self { highest, seen }.validated(name)
    }
    /// The highest accepted counter, if any.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn bit(&self, counter: u64) -> bool {
        let i = (counter % WINDOW_SIZE) as usize;
        self.seen
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set(&mut self, counter: u64, value: bool) {
        let i = (counter % WINDOW_SIZE) as usize;
        if let Some(w) = self.seen.get_mut(i / 64) {
            let mask = 1u64 << (i % 64);
            if value { *w |= mask } else { *w &= !mask }
        }
    }

    /// Would `counter` be accepted? Does not change the window.
    pub fn check(&self, counter: u64) -> Result<Delivery, WindowError> {
        match self.highest {
            None => Ok(Delivery {
                skipped: counter,
                late: false,
            }),
            Some(h) if counter > h => Ok(Delivery {
                skipped: counter - h - 1,
                late: false,
            }),
            Some(h) if h - counter >= WINDOW_SIZE => Err(WindowError::TooOld),
            Some(_) if self.bit(counter) => Err(WindowError::Replay),
            Some(_) => Ok(Delivery {
                skipped: 0,
                late: true,
            }),
        }
    }

    /// Records `counter` as accepted. Call only after [`Self::check`] succeeded
    /// and the message authenticated.
    pub fn accept(&mut self, counter: u64) {
        match self.highest {
            // Below the window: no bit stands for it (setting `counter mod
            // WINDOW_SIZE` would mark a counter inside the window as seen).
            Some(h) if counter <= h && h - counter >= WINDOW_SIZE => return,
            Some(h) if counter <= h => {}
            Some(h) => {
                // Forget the counters that slide out of the window.
                if counter - h >= WINDOW_SIZE {
                    self.seen = [0; WORDS];
                } else {
                    for c in h + 1..counter {
                        self.set(c, false);
                    }
                }
                self.highest = Some(counter);
            }
            None => {
                self.seen = [0; WORDS];
                self.highest = Some(counter);
            }
        }
        self.set(counter, true);
    }

    /// Counters inside the window, below the highest, that have not arrived.
    pub fn missing(&self) -> Vec<u64> {
        let Some(h) = self.highest else {
            return Vec::new();
        };
        let start = h.saturating_sub(WINDOW_SIZE - 1);
        (start..h).filter(|&c| !self.bit(c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_replay_too_old() {
        let mut w = ReplayWindow::default();
        assert_eq!(
            w.check(0),
            Ok(Delivery {
                skipped: 0,
                late: false
            })
        );
        w.accept(0);
        assert_eq!(w.check(0), Err(WindowError::Replay));
        assert_eq!(
            w.check(3),
            Ok(Delivery {
                skipped: 2,
                late: false
            })
        );
        w.accept(3);
        assert_eq!(w.missing(), [1, 2]);
        assert_eq!(
            w.check(2),
            Ok(Delivery {
                skipped: 0,
                late: true
            })
        );
        w.accept(2);
        assert_eq!(w.missing(), [1]);
        assert_eq!(w.check(2), Err(WindowError::Replay));
        w.accept(3 + WINDOW_SIZE);
        assert_eq!(w.check(3), Err(WindowError::TooOld));
        assert_eq!(
            w.check(4),
            Ok(Delivery {
                skipped: 0,
                late: true
            })
        );
        assert_eq!(w.check(3 + WINDOW_SIZE), Err(WindowError::Replay));
    }

    #[test]
    fn accepting_below_the_window_marks_nothing_inside_it() {
        let mut w = ReplayWindow::default();
        w.accept(2 * WINDOW_SIZE);
        // Opened late from a stored secret: no bit of the window stands for it.
        w.accept(WINDOW_SIZE - 1);
        assert_eq!(
            w.check(2 * WINDOW_SIZE - 1),
            Ok(Delivery {
                skipped: 0,
                late: true
            })
        );
        assert_eq!(w.check(WINDOW_SIZE - 1), Err(WindowError::TooOld));
    }

    #[test]
    fn sliding_clears_reused_bits() {
        let mut w = ReplayWindow::default();
        w.accept(5);
        w.accept(5 + WINDOW_SIZE - 1);
        // Counter 5 is still inside the window and seen.
        assert_eq!(w.check(5), Err(WindowError::Replay));
        w.accept(5 + WINDOW_SIZE + 1);
        // 5 and 6 have left; 6 + WINDOW_SIZE - 1 reuses 5's bit and must be fresh.
        assert_eq!(w.check(5), Err(WindowError::TooOld));
        assert_eq!(
            w.check(5 + WINDOW_SIZE),
            Ok(Delivery {
                skipped: 0,
                late: true
            })
        );
    }

    #[test]
    fn encoding_round_trips_and_refuses_inconsistent_windows() {
        let mut w = ReplayWindow::default();
        for c in [3, 7, 1030, 1029] {
            w.accept(c);
        }
        let mut out = Writer::new();
        w.encode(&mut out);
        let bytes = out.into_bytes();
        assert_eq!(bytes.len(), WINDOW_ENCODED_LEN);
        let mut r = Reader::new(&bytes);
        assert_eq!(ReplayWindow::decode(&mut r, "w"), Ok(w.clone()));
        r.finish().unwrap();

        let refused = |window: ReplayWindow| {
            assert_eq!(
                window.validated("w"),
                Err(StateError::Invalid { field: "w" })
            );
        };
        // Highest not marked as seen.
        let mut missing_highest = w.clone();
        missing_highest.set(1030, false);
        refused(missing_highest);
        // Bits with no highest.
        refused(ReplayWindow {
            highest: None,
            seen: [1; WORDS],
        });
        // A bit above the highest (counter 9 when only 0..=5 exist).
        let mut early = ReplayWindow::default();
        early.accept(5);
        early.set(9, true);
        refused(early);
        // Flag 0 with a value, flag 2.
        let mut bad = bytes.clone();
        bad[0] = 2;
        assert!(ReplayWindow::decode(&mut Reader::new(&bad), "w").is_err());
        let empty = {
            let mut out = Writer::new();
            ReplayWindow::default().encode(&mut out);
            out.into_bytes()
        };
        let mut bad = empty.clone();
        bad[8] = 1;
        assert!(ReplayWindow::decode(&mut Reader::new(&bad), "w").is_err());
        assert_eq!(
            ReplayWindow::decode(&mut Reader::new(&empty), "w"),
            Ok(ReplayWindow::default())
        );
    }

    #[test]
    fn first_message_reports_what_came_before_as_skipped() {
        let w = ReplayWindow::default();
        assert_eq!(w.check(7).unwrap().skipped, 7);
        assert_eq!(w.check(u64::MAX - 1).unwrap().skipped, u64::MAX - 1);
    }
}
