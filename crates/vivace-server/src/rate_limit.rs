//! Statements per second per user (`http-server.max-statements-per-second-per-user`): one
//! token bucket per user, holding a second's worth of statements, refilled continuously. A
//! user over the rate gets 429 with `Retry-After`; other users are not affected.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Users tracked before idle ones (full buckets) are forgotten.
const TRACKED_USERS: usize = 10_000;

/// Per-user token buckets for statement submission.
#[derive(Debug)]
pub(crate) struct StatementRateLimiter {
    /// Statements per second; also the burst a user may send at once.
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl StatementRateLimiter {
    /// A limiter allowing `rate` statements per second per user (at least one).
    pub(crate) fn new(rate: u32) -> Self {
        StatementRateLimiter {
            rate: f64::from(rate.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one statement from `user`'s bucket, or tells how long until one is available.
    pub(crate) fn admit(&self, user: &str) -> Result<(), Duration> {
        self.admit_at(user, Instant::now())
    }

    fn admit_at(&self, user: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock();
        if buckets.len() >= TRACKED_USERS && !buckets.contains_key(user) {
            let rate = self.rate;
            buckets.retain(|_, bucket| bucket.refilled(now, rate) < rate);
            if buckets.len() >= TRACKED_USERS {
                // More users active at once than tracked (names made up per request, where
                // users are not authenticated): memory stays bounded, the rates start over.
                buckets.clear();
            }
        }
        let bucket = buckets.entry(user.to_string()).or_insert(Bucket {
            tokens: self.rate,
            updated: now,
        });
        bucket.tokens = bucket.refilled(now, self.rate);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, rate: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * rate).min(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_a_seconds_burst_then_the_rate() {
        let limiter = StatementRateLimiter::new(5);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.admit_at("alice", start).expect("within the burst");
        }
        let wait = limiter.admit_at("alice", start).expect_err("over the rate");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        // Another user is not affected.
        limiter
            .admit_at("bob", start)
            .expect("bob has his own bucket");
        // A fifth of a second later one more statement is allowed.
        limiter
            .admit_at("alice", start + Duration::from_millis(200))
            .expect("refilled");
        assert!(
            limiter
                .admit_at("alice", start + Duration::from_millis(200))
                .is_err()
        );
    }

    #[test]
    fn idle_users_are_forgotten_when_many_are_tracked() {
        let limiter = StatementRateLimiter::new(1);
        let start = Instant::now();
        for n in 0..TRACKED_USERS {
            limiter.admit_at(&format!("user{n}"), start).expect("first");
        }
        let later = start + Duration::from_secs(2);
        limiter.admit_at("newcomer", later).expect("admitted");
        assert!(limiter.buckets.lock().len() < 10);
    }
}
