//! The receiver's replay window (SPEC.md §7.5).

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayWindow {
    highest: Option<u64>,
    seen: [u64; WORDS],
}

impl ReplayWindow {
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
    fn first_message_reports_what_came_before_as_skipped() {
        let w = ReplayWindow::default();
        assert_eq!(w.check(7).unwrap().skipped, 7);
        assert_eq!(w.check(u64::MAX - 1).unwrap().skipped, u64::MAX - 1);
    }
}
