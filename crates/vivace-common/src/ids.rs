//! Identifiers in Trino's formats.

use std::fmt;
use std::sync::Mutex;

use chrono::Utc;
use rand::Rng;

/// A query id in Trino's format, `YYYYMMDD_HHMMSS_NNNNN_xxxxx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(String);

impl QueryId {
    /// Accepts an id from a URL or a statement; only `[a-z0-9_]` characters are allowed.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        valid.then(|| QueryId(text.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes query ids: a per-second counter, as Trino does, and a per-process random suffix.
#[derive(Debug)]
pub struct QueryIdGenerator {
    suffix: String,
    state: Mutex<(i64, u32)>,
}

impl Default for QueryIdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryIdGenerator {
    /// A generator with a fresh random suffix.
    pub fn new() -> Self {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = rand::rng();
        let suffix = (0..5)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        QueryIdGenerator {
            suffix,
            state: Mutex::new((0, 0)),
        }
    }

    /// The next id.
    pub fn next_id(&self) -> QueryId {
        let now = Utc::now();
        let second = now.timestamp();
        let counter = {
            let mut state = match self.state.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if state.0 != second {
                *state = (second, 0);
            }
            state.1 = (state.1 + 1) % 100_000;
            state.1
        };
        QueryId(format!(
            "{}_{:05}_{}",
            now.format("%Y%m%d_%H%M%S"),
            counter,
            self.suffix
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_trino_shape() {
        let generator = QueryIdGenerator::new();
        let a = generator.next_id();
        let b = generator.next_id();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.as_str().split('_').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].len(), 8);
        assert_eq!(parts[1].len(), 6);
        assert_eq!(parts[2].len(), 5);
        assert_eq!(parts[3].len(), 5);
        assert!(QueryId::parse(a.as_str()).is_some());
        assert!(QueryId::parse("bad/id").is_none());
    }
}
