//! Slowing down password guessing: each client address may make `limit` failed attempts per
//! window; further attempts are refused until the window ends. An attempt takes its slot
//! before the (slow) check runs, so parallel requests cannot exceed the limit, and a success
//! returns only its own slot, so interleaving valid logins does not reset the count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Most addresses tracked at once; beyond it the oldest windows are dropped.
const MAX_TRACKED: usize = 100_000;

/// Attempt counts per client address.
#[derive(Debug)]
pub(crate) struct FailureThrottle {
    limit: u32,
    window: Duration,
    attempts: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl FailureThrottle {
    /// Allows `limit` failures per `window` per address; 0 disables throttling.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        FailureThrottle {
            limit,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a slot for an attempt, or says how long the address must wait.
    pub(crate) fn begin(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut attempts = self.attempts.lock();
        if attempts.len() >= MAX_TRACKED && !attempts.contains_key(&client) {
            let window = self.window;
            attempts.retain(|_, (_, since)| since.elapsed() < window);
            if attempts.len() >= MAX_TRACKED {
                attempts.clear();
            }
        }
        let entry = attempts.entry(client).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        if entry.0 >= self.limit {
            return Err(self.window.saturating_sub(entry.1.elapsed()));
        }
        entry.0 += 1;
        Ok(())
    }

    /// Returns the slot of an attempt that succeeded (or carried no credentials).
    pub(crate) fn release(&self, client: IpAddr) {
        if self.limit == 0 {
            return;
        }
        if let Some(entry) = self.attempts.lock().get_mut(&client) {
            entry.0 = entry.0.saturating_sub(1);
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
        assert!(throttle.begin(ip).is_ok());
        assert!(throttle.begin(ip).is_ok());
        assert!(throttle.begin(ip).is_err());
        assert!(throttle.begin(other).is_ok());
        std::thread::sleep(Duration::from_millis(110));
        assert!(throttle.begin(ip).is_ok());
        throttle.release(ip);
        assert!(throttle.begin(ip).is_ok());
        assert!(throttle.begin(ip).is_ok());
        assert!(throttle.begin(ip).is_err());
    }
}
