//! The restart budget: at most `max` restarts in any `window`. A change that would exceed it
//! waits (the running program keeps the values it has) until the oldest restart leaves the
//! window, so a storm of rotations costs a few restarts, not one per poll.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub struct Budget {
    max: usize,
    window: Duration,
    restarts: VecDeque<Instant>,
}

impl Budget {
    pub fn new(max: u32, window: Duration) -> Self {
        Budget {
            max: max.max(1) as usize,
            window,
            restarts: VecDeque::new(),
        }
    }

    /// `None` when a restart may happen now, else when the next one may.
    pub fn next_allowed(&mut self, now: Instant) -> Option<Instant> {
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) >= self.window {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        if self.restarts.len() < self.max {
            None
        } else {
            self.restarts.front().map(|&oldest| oldest + self.window)
        }
    }

    pub fn record(&mut self, now: Instant) {
        self.restarts.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_waits_for_the_oldest_restart_to_leave_the_window() {
        let start = Instant::now();
        let window = Duration::from_secs(60);
        let mut budget = Budget::new(2, window);
        assert_eq!(budget.next_allowed(start), None);
        budget.record(start);
        budget.record(start + Duration::from_secs(1));
        assert_eq!(
            budget.next_allowed(start + Duration::from_secs(2)),
            Some(start + window)
        );
        assert_eq!(budget.next_allowed(start + window), None);
    }
}
