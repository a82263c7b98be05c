//! Slowing down password guessing: after too many failures from one client address within a
//! window, further attempts from it are refused until the window ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Failure counts per client address.
#[derive(Debug)]
pub(crate) struct FailureThrottle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl FailureThrottle {
    /// Allows `limit` failures per `window` per address; 0 disables throttling.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        FailureThrottle {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` when the address must wait before trying again.
    pub(crate) fn check(&self, client: IpAddr) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let failures = self.failures.lock();
        let (count, since) = failures.get(&client)?;
        let elapsed = since.elapsed();
        (*count >= self.limit && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Counts a failure from the address.
    pub(crate) fn record_failure(&self, client: IpAddr) {
        if self.limit == 0 {
            return;
        }
        let mut failures = self.failures.lock();
        if failures.len() > 100_000 {
            let window = self.window;
            failures.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = failures.entry(client).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Forgets the address's failures after a success.
    pub(crate) fn record_success(&self, client: IpAddr) {
        if self.limit > 0 {
            self.failures.lock().remove(&client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_limit_until_window_passes() {
        let throttle = FailureThrottle::new(2, Duration::from_millis(100));
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let other: IpAddr = "127.0.0.8".parse().unwrap();
        throttle.record_failure(ip);
        assert!(throttle.check(ip).is_none());
        throttle.record_failure(ip);
        assert!(throttle.check(ip).is_some());
        assert!(throttle.check(other).is_none());
        std::thread::sleep(Duration::from_millis(110));
        assert!(throttle.check(ip).is_none());
        throttle.record_failure(ip);
        throttle.record_success(ip);
        assert!(throttle.check(ip).is_none());
    }
}
