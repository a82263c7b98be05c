//! Slowing down password guessing without letting one client lock others out.
//!
//! The rules, with `window` = `http-server.authentication.failure-window`:
//!
//! 1. **Per user and address.** Failed checks are counted per (client address, user name).
//!    After `failure-limit` failures within a window (which starts with the first of them),
//!    that user's attempts from that address are refused with 429 until the window ends.
//!    Other users behind the same address (a NAT, a proxy) are not affected.
//! 2. **Only failures count.** A request is counted after its credentials were checked and
//!    refused. Successes are never counted and never reset a count: every request of an active
//!    session carries the password again, so a reset would hand someone guessing that user's
//!    password from the same address a fresh allowance with each of the user's requests.
//!    Requests in flight are not counted either, so any number of simultaneous correct logins
//!    succeed. The price is that attempts already in flight when a limit is reached are still
//!    checked: a burst can exceed a limit by the number of its requests in flight at once, which
//!    the server's connection limits bound.
//! 3. **A brake per address.** Failures of all users from one address are counted too; after
//!    `failure-limit-per-address` of them (ten times `failure-limit` unless set) within a
//!    window, the address is braked until the window ends. While it is, only users who have
//!    authenticated successfully from that address within the last 24 hours are still checked
//!    (and rule 1 still applies to them); anyone else from that address gets 429. A spray of
//!    guesses across many user names therefore stops at the brake's limit, while colleagues who
//!    work from the same address keep getting in.
//!
//!    Two other designs were rejected. "Still check users with no recent failures" does not
//!    brake a spray at all: a spray tries each name once, so every name it tries has no
//!    failures. "Still check correct credentials at a limited rate" lets the attacker's guesses
//!    use up that rate, so legitimate users would rarely get a turn, and it raises the rate of
//!    guesses. The cost of the chosen design: a user who has never logged in from a braked
//!    address waits for the end of the window (the 429 says how long in `Retry-After`).
//! 4. **Addresses.** IPv4-mapped IPv6 addresses count as their IPv4 address; other IPv6
//!    addresses count by their /64 prefix, since a single host commonly owns a whole /64.
//! 5. **Unknown users.** An attempt whose user name cannot be read (malformed Basic
//!    credentials) counts toward the brake only, and is refused while the brake is on. How
//!    bearer tokens are counted is decided by the caller (`authentication.rs`).
//!
//! User names are compared case-insensitively (directories such as LDAP ignore case, and case
//! variants must not multiply the allowance) and kept only as 64-bit keyed hashes. Each table
//! holds at most a fixed number of entries: when one is full, expired entries are dropped
//! first, then the oldest ones, down to half the table.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tracing::warn;

/// Entries each table may hold.
const MAX_TRACKED: usize = 100_000;

/// How long a successful login makes its user known at its address, for the brake.
const KNOWN_USER_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A known user's last success is refreshed at most this often (every request of a session
/// authenticates again).
const KNOWN_USER_REFRESH: Duration = Duration::from_secs(60);

/// How many failures the per-address brake allows for each failure allowed per user, when
/// `failure-limit-per-address` is not set.
pub(crate) const ADDRESS_LIMIT_FACTOR: u32 = 10;

/// The throttle's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ThrottleLimits {
    /// Failures per (address, user) per window; 0 turns the rule off.
    pub(crate) per_user: u32,
    /// Failures per address per window before the brake; 0 turns the brake off.
    pub(crate) per_address: u32,
    /// How long failures are remembered.
    pub(crate) window: Duration,
}

/// Failures counted since the start of a window.
#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    since: Instant,
}

impl Count {
    fn live(&self, now: Instant, window: Duration) -> bool {
        now.saturating_duration_since(self.since) < window
    }

    /// How long until the window ends, if the count has reached `limit`.
    fn blocks(&self, limit: u32, now: Instant, window: Duration) -> Option<Duration> {
        (self.live(now, window) && self.failures >= limit)
            .then(|| window.saturating_sub(now.saturating_duration_since(self.since)))
    }
}

/// A client address (see rule 4) and a user name's hash.
type UserKey = (IpAddr, u64);

#[derive(Debug, Default)]
struct State {
    /// Failures per (address, user).
    users: HashMap<UserKey, Count>,
    /// Failures per address.
    addresses: HashMap<IpAddr, Count>,
    /// Last successful login per (address, user).
    known: HashMap<UserKey, Instant>,
}

/// Failure counts per (address, user) and per address.
#[derive(Debug)]
pub(crate) struct FailureThrottle {
    limits: ThrottleLimits,
    capacity: usize,
    hasher: RandomState,
    state: Mutex<State>,
}

impl FailureThrottle {
    /// A throttle with the given limits; both limits 0 (or a zero window) disable it.
    pub(crate) fn new(limits: ThrottleLimits) -> Self {
        Self::with_capacity(limits, MAX_TRACKED)
    }

    fn with_capacity(limits: ThrottleLimits, capacity: usize) -> Self {
        FailureThrottle {
            limits,
            capacity: capacity.max(2),
            hasher: RandomState::new(),
            state: Mutex::new(State::default()),
        }
    }

    fn enabled(&self) -> bool {
        (self.limits.per_user > 0 || self.limits.per_address > 0) && !self.limits.window.is_zero()
    }

    fn user_key(&self, client: IpAddr, user: &str) -> UserKey {
        (
            address_key(client),
            self.hasher.hash_one(user.to_lowercase()),
        )
    }

    /// Whether an attempt by `user` (`None` when it cannot be read) from `client` may be
    /// checked now; `Err` says how long to wait.
    pub(crate) fn admit(&self, client: IpAddr, user: Option<&str>) -> Result<(), Duration> {
        self.admit_at(client, user, Instant::now())
    }

    fn admit_at(&self, client: IpAddr, user: Option<&str>, now: Instant) -> Result<(), Duration> {
        if !self.enabled() {
            return Ok(());
        }
        let address = address_key(client);
        let key = user.map(|user| self.user_key(client, user));
        let window = self.limits.window;
        let state = self.state.lock();
        let mut wait: Option<Duration> = None;
        if self.limits.per_user > 0
            && let Some(key) = &key
            && let Some(count) = state.users.get(key)
        {
            wait = count.blocks(self.limits.per_user, now, window);
        }
        if self.limits.per_address > 0
            && let Some(count) = state.addresses.get(&address)
            && let Some(braked) = count.blocks(self.limits.per_address, now, window)
        {
            let known = key.is_some_and(|key| {
                state
                    .known
                    .get(&key)
                    .is_some_and(|at| now.saturating_duration_since(*at) < KNOWN_USER_TTL)
            });
            if !known {
                wait = Some(wait.map_or(braked, |w| w.max(braked)));
            }
        }
        match wait {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a check that refused the credentials of `user` (`None`: toward the brake only).
    pub(crate) fn failed(&self, client: IpAddr, user: Option<&str>) {
        self.failed_at(client, user, Instant::now());
    }

    fn failed_at(&self, client: IpAddr, user: Option<&str>, now: Instant) {
        if !self.enabled() {
            return;
        }
        let address = address_key(client);
        let key = user.map(|user| self.user_key(client, user));
        let window = self.limits.window;
        let capacity = self.capacity;
        let mut state = self.state.lock();
        if self.limits.per_user > 0
            && let Some(key) = key
        {
            make_room(
                &mut state.users,
                &key,
                capacity,
                |c| c.live(now, window),
                |c| c.since,
            );
            let failures = bump(state.users.entry(key), now, window);
            if failures == self.limits.per_user {
                warn!(
                    client = %address,
                    limit = failures,
                    "authentication failures for one user from this client reached the limit; \
                     that user's attempts from this client are refused until the window ends"
                );
            }
        }
        if self.limits.per_address > 0 {
            make_room(
                &mut state.addresses,
                &address,
                capacity,
                |c| c.live(now, window),
                |c| c.since,
            );
            let failures = bump(state.addresses.entry(address), now, window);
            if failures == self.limits.per_address {
                warn!(
                    client = %address,
                    limit = failures,
                    "authentication failures from this client reached the per-address limit; \
                     only users who logged in from it before are checked until the window ends"
                );
            }
        }
    }

    /// Records that `user` authenticated from `client`: the brake lets them through later.
    pub(crate) fn succeeded(&self, client: IpAddr, user: &str) {
        self.succeeded_at(client, user, Instant::now());
    }

    fn succeeded_at(&self, client: IpAddr, user: &str, now: Instant) {
        if !self.enabled() || self.limits.per_address == 0 {
            return;
        }
        let key = self.user_key(client, user);
        let mut state = self.state.lock();
        if state
            .known
            .get(&key)
            .is_some_and(|at| now.saturating_duration_since(*at) < KNOWN_USER_REFRESH)
        {
            return;
        }
        make_room(
            &mut state.known,
            &key,
            self.capacity,
            |at| now.saturating_duration_since(*at) < KNOWN_USER_TTL,
            |at| *at,
        );
        state.known.insert(key, now);
    }
}

/// Adds a failure to a count, starting a new window if the last one ended; returns the count.
fn bump<K>(
    entry: std::collections::hash_map::Entry<'_, K, Count>,
    now: Instant,
    window: Duration,
) -> u32 {
    let count = entry.or_insert(Count {
        failures: 0,
        since: now,
    });
    if !count.live(now, window) {
        *count = Count {
            failures: 0,
            since: now,
        };
    }
    count.failures = count.failures.saturating_add(1);
    count.failures
}

/// Before `key` is added to a full `map`: drops the entries that are no longer `live`, then,
/// if more than half the capacity is still used, the oldest by `age` down to half.
fn make_room<K: Eq + Hash, V>(
    map: &mut HashMap<K, V>,
    key: &K,
    capacity: usize,
    live: impl Fn(&V) -> bool,
    age: impl Fn(&V) -> Instant,
) {
    if map.len() < capacity || map.contains_key(key) {
        return;
    }
    map.retain(|_, value| live(value));
    let keep = capacity / 2;
    if map.len() > keep {
        let mut ages: Vec<Instant> = map.values().map(&age).collect();
        let drop = ages.len() - keep;
        let (_, cutoff, _) = ages.select_nth_unstable(drop - 1);
        let cutoff = *cutoff;
        map.retain(|_, value| age(value) > cutoff);
    }
}

/// The address failures are counted under (rule 4).
fn address_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn throttle(per_user: u32, per_address: u32) -> FailureThrottle {
        FailureThrottle::new(ThrottleLimits {
            per_user,
            per_address,
            window: MINUTE,
        })
    }

    #[test]
    fn failures_lock_out_only_that_user_at_that_address() {
        let t = throttle(3, 100);
        let now = Instant::now();
        let nat = ip("10.0.0.1");
        for _ in 0..3 {
            assert!(t.admit_at(nat, Some("alice"), now).is_ok());
            t.failed_at(nat, Some("alice"), now);
        }
        let wait = t.admit_at(nat, Some("alice"), now).unwrap_err();
        assert_eq!(wait, MINUTE);
        // Another user behind the same address, and the same user elsewhere, are unaffected.
        assert!(t.admit_at(nat, Some("bob"), now).is_ok());
        assert!(t.admit_at(ip("10.0.0.2"), Some("alice"), now).is_ok());
        // Case variants share the count.
        assert!(t.admit_at(nat, Some("ALICE"), now).is_err());
        // Retry-After shrinks as the window passes, and the window ends.
        let later = now + Duration::from_secs(45);
        assert_eq!(
            t.admit_at(nat, Some("alice"), later).unwrap_err(),
            Duration::from_secs(15)
        );
        assert!(t.admit_at(nat, Some("alice"), now + MINUTE).is_ok());
        // A new window starts with the next failure.
        t.failed_at(nat, Some("alice"), now + MINUTE);
        assert!(t.admit_at(nat, Some("alice"), now + MINUTE).is_ok());
    }

    #[test]
    fn successes_and_attempts_in_flight_are_never_counted() {
        let t = throttle(2, 20);
        let now = Instant::now();
        let nat = ip("10.0.0.1");
        // Many simultaneous attempts: admission takes nothing.
        for _ in 0..50 {
            assert!(t.admit_at(nat, Some("alice"), now).is_ok());
        }
        for _ in 0..50 {
            t.succeeded_at(nat, "alice", now);
        }
        assert!(t.admit_at(nat, Some("alice"), now).is_ok());
        // A success does not reset the failures of that user.
        t.failed_at(nat, Some("alice"), now);
        t.succeeded_at(nat, "alice", now);
        t.failed_at(nat, Some("alice"), now);
        assert!(t.admit_at(nat, Some("alice"), now).is_err());
    }

    #[test]
    fn the_address_brake_stops_a_spray_but_not_known_users() {
        let t = throttle(3, 10);
        let now = Instant::now();
        let nat = ip("192.0.2.7");
        t.succeeded_at(nat, "bob", now);
        for i in 0..10 {
            let user = format!("user{i}");
            assert!(t.admit_at(nat, Some(&user), now).is_ok(), "{user}");
            t.failed_at(nat, Some(&user), now);
        }
        // Braked: new names (and unreadable ones) are refused until the window ends ...
        assert_eq!(t.admit_at(nat, Some("user99"), now).unwrap_err(), MINUTE);
        assert!(t.admit_at(nat, None, now).is_err());
        assert!(t.admit_at(nat, Some("carol"), now).is_err());
        // ... a user who logged in from this address before is still checked ...
        assert!(t.admit_at(nat, Some("bob"), now).is_ok());
        assert!(t.admit_at(nat, Some("BOB"), now).is_ok());
        // ... and other addresses are not braked.
        assert!(t.admit_at(ip("192.0.2.8"), Some("user99"), now).is_ok());
        assert!(t.admit_at(nat, Some("user99"), now + MINUTE).is_ok());
        // The per-user rule still applies to known users.
        for _ in 0..3 {
            t.failed_at(nat, Some("bob"), now);
        }
        assert!(t.admit_at(nat, Some("bob"), now).is_err());
    }

    #[test]
    fn known_users_expire() {
        let t = throttle(3, 1);
        let now = Instant::now();
        let nat = ip("192.0.2.7");
        t.succeeded_at(nat, "bob", now);
        let later = now + KNOWN_USER_TTL;
        t.failed_at(nat, Some("x"), later);
        assert!(t.admit_at(nat, Some("bob"), later).is_err());
        // A new success makes the user known again.
        t.succeeded_at(nat, "bob", later);
        assert!(t.admit_at(nat, Some("bob"), later).is_ok());
    }

    #[test]
    fn unreadable_users_count_toward_the_brake_only() {
        let t = throttle(1, 3);
        let now = Instant::now();
        let nat = ip("192.0.2.7");
        t.failed_at(nat, None, now);
        t.failed_at(nat, None, now);
        assert!(t.admit_at(nat, None, now).is_ok());
        assert!(t.admit_at(nat, Some("alice"), now).is_ok());
        t.failed_at(nat, None, now);
        assert!(t.admit_at(nat, None, now).is_err());
        assert!(t.admit_at(nat, Some("alice"), now).is_err());
    }

    #[test]
    fn limits_can_be_turned_off() {
        let now = Instant::now();
        let nat = ip("192.0.2.7");
        let off = throttle(0, 0);
        for _ in 0..100 {
            off.failed_at(nat, Some("a"), now);
        }
        assert!(off.admit_at(nat, Some("a"), now).is_ok());
        assert!(off.state.lock().users.is_empty());

        let brake_only = throttle(0, 5);
        for _ in 0..5 {
            brake_only.failed_at(nat, Some("a"), now);
        }
        assert!(brake_only.admit_at(nat, Some("a"), now).is_err());

        let user_only = throttle(2, 0);
        for i in 0..100 {
            user_only.failed_at(nat, Some(&format!("u{i}")), now);
        }
        assert!(user_only.admit_at(nat, Some("new"), now).is_ok());
        assert!(user_only.state.lock().addresses.is_empty());
    }

    #[test]
    fn ipv6_counts_by_prefix_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:3:4:5:6")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(address_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(address_key(ip("10.1.2.3")), ip("10.1.2.3"));
        let t = throttle(2, 100);
        let now = Instant::now();
        t.failed_at(ip("2001:db8::1"), Some("a"), now);
        t.failed_at(ip("2001:db8::2"), Some("a"), now);
        assert!(t.admit_at(ip("2001:db8::ffff"), Some("a"), now).is_err());
        assert!(t.admit_at(ip("2001:db8:0:1::1"), Some("a"), now).is_ok());
    }

    #[test]
    fn tables_stay_bounded() {
        let t = FailureThrottle::with_capacity(
            ThrottleLimits {
                per_user: 5,
                per_address: 1_000_000,
                window: MINUTE,
            },
            100,
        );
        let start = Instant::now();
        for i in 0..1_000u32 {
            let now = start + Duration::from_millis(u64::from(i));
            let client = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
            t.failed_at(client, Some("u"), now);
            t.succeeded_at(client, "v", now);
            let state = t.state.lock();
            assert!(state.users.len() <= 100);
            assert!(state.addresses.len() <= 100);
            assert!(state.known.len() <= 100);
        }
        // The newest entries survive an eviction.
        let last = IpAddr::from([10, 0, 3, 231]);
        assert_eq!(t.state.lock().users[&t.user_key(last, "u")].failures, 1);
        // Expired entries go first.
        let t = FailureThrottle::with_capacity(
            ThrottleLimits {
                per_user: 5,
                per_address: 0,
                window: MINUTE,
            },
            10,
        );
        for i in 0..10u8 {
            t.failed_at(IpAddr::from([10, 0, 0, i]), Some("u"), start);
        }
        t.failed_at(ip("10.0.1.1"), Some("u"), start + MINUTE);
        assert_eq!(t.state.lock().users.len(), 1);
    }
}
