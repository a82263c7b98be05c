//! Repeated warnings (a misconfigured node announcing every few seconds) are logged once per
//! minute per message; the repeats go to the debug level.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

const REPEAT_INTERVAL: Duration = Duration::from_secs(60);

/// Whether `message` was not warned about in the last minute (and records it now if so).
pub(crate) fn first_in_a_while(message: &str) -> bool {
    static SEEN: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();
    let mut seen = SEEN.get_or_init(Mutex::default).lock();
    if seen.len() > 10_000 {
        seen.retain(|_, at| at.elapsed() < REPEAT_INTERVAL);
    }
    match seen.get(message) {
        Some(at) if at.elapsed() < REPEAT_INTERVAL => false,
        _ => {
            seen.insert(message.to_string(), Instant::now());
            true
        }
    }
}

/// Logs at warn level the first time in a minute, at debug level otherwise.
macro_rules! warn_limited {
    ($($arg:tt)+) => {{
        let message = format!($($arg)+);
        if $crate::log_limit::first_in_a_while(&message) {
            tracing::warn!("{message}");
        } else {
            tracing::debug!("{message}");
        }
    }};
}
pub(crate) use warn_limited;
