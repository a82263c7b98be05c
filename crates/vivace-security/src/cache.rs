//! A bounded, expiring cache of credential checks. Keys are salted SHA-256 digests of the
//! length-prefixed user and password, with a random salt per process, so no password is kept
//! in memory after its check.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

/// Results of credential checks by digest.
#[derive(Debug)]
pub(crate) struct CredentialCache<V> {
    entries: Mutex<HashMap<[u8; 32], (V, Instant)>>,
    ttl: Duration,
    max_size: usize,
}

impl<V: Clone> CredentialCache<V> {
    /// A cache keeping at most `max_size` results for `ttl` each; `max_size` 0 disables it.
    pub(crate) fn new(ttl: Duration, max_size: usize) -> Self {
        CredentialCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            max_size,
        }
    }

    /// The digest identifying a user and password.
    pub(crate) fn key(user: &str, password: &str) -> [u8; 32] {
        static SALT: OnceLock<[u8; 32]> = OnceLock::new();
        let salt = SALT.get_or_init(rand::random);
        let mut hasher = Sha256::new();
        hasher.update(salt);
        for part in [user, password] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().into()
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<V> {
        let mut entries = self.entries.lock();
        match entries.get(key) {
            Some((value, at)) if at.elapsed() < self.ttl => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, key: [u8; 32], value: V) {
        if self.max_size == 0 {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.len() >= self.max_size {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.max_size {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub(crate) fn clear(&self) {
        self.entries.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_bounds() {
        let cache = CredentialCache::new(Duration::from_millis(50), 2);
        let a = CredentialCache::<bool>::key("a", "x");
        assert_ne!(a, CredentialCache::<bool>::key("a", "y"));
        assert_ne!(
            CredentialCache::<bool>::key("ab", "c"),
            CredentialCache::<bool>::key("a", "bc")
        );
        cache.insert(a, true);
        assert_eq!(cache.get(&a), Some(true));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&a), None);
        for i in 0..5 {
            cache.insert(CredentialCache::<bool>::key("u", &i.to_string()), true);
        }
        assert!(cache.entries.lock().len() <= 2);
    }
}
