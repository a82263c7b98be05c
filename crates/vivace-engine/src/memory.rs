//! Memory of a node: one pool that all queries of the node reserve from together, above each
//! query's own pool, and the low-memory killer that picks a query to end when the node pool
//! is full.
//!
//! A query's reservations go through its [`QueryMemoryPool`]: the query's limit
//! (`query.max-memory-per-node`, or its share of `query.max-memory`) is checked by the inner
//! DataFusion pool, the node's total (`memory.node-pool-size`) by [`NodeMemory`]. Infallible
//! `grow` calls (some operators use them) are counted at both levels too, so the node's total
//! stays true even where it cannot refuse.
//!
//! When a `try_grow` would take the node over its size, the policy
//! (`query.low-memory-killer.policy`) decides: `none` fails the asking query;
//! `total-reservation` (and `total-reservation-on-blocked-nodes`, the same on one node) ends
//! the query holding the most memory on this node. If that is another query, the request is
//! granted against the memory the victim is about to release, so a small query is not failed
//! for a large one's sake.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
    TrackConsumersPool,
};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tracing::warn;
use vivace_common::ErrorCode;
use vivace_common::properties::format_data_size;

use crate::error::EngineError;

/// Trino's message for a query ended by the low-memory killer.
pub(crate) const CLUSTER_OUT_OF_MEMORY_MESSAGE: &str =
    "Query killed because the cluster is out of memory. Please try again in a few minutes.";

/// What the node does when queries together would reserve more than the node pool holds
/// (`query.low-memory-killer.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowMemoryKillerPolicy {
    /// `none`: the query whose request does not fit fails.
    None,
    /// `total-reservation`: the query holding the most memory on the node is killed.
    TotalReservation,
    /// `total-reservation-on-blocked-nodes` (Trino's default): as `total-reservation`, among
    /// the queries of the node that ran out.
    TotalReservationOnBlockedNodes,
}

impl LowMemoryKillerPolicy {
    /// Parses Trino's names; the error lists them.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(LowMemoryKillerPolicy::None),
            "total-reservation" => Ok(LowMemoryKillerPolicy::TotalReservation),
            "total-reservation-on-blocked-nodes" => {
                Ok(LowMemoryKillerPolicy::TotalReservationOnBlockedNodes)
            }
            other => Err(format!(
                "unknown low-memory killer policy '{other}': expected none, total-reservation \
                 or total-reservation-on-blocked-nodes"
            )),
        }
    }

    fn kills(self) -> bool {
        !matches!(self, LowMemoryKillerPolicy::None)
    }
}

/// The memory of one node, shared by every query that runs part of its work here.
#[derive(Debug)]
pub struct NodeMemory {
    size: usize,
    policy: LowMemoryKillerPolicy,
    used: AtomicUsize,
    queries: Mutex<HashMap<String, Weak<QueryMemoryPool>>>,
}

impl NodeMemory {
    /// A node pool of `size` bytes, with `policy` for when it runs out.
    pub fn new(size: u64, policy: LowMemoryKillerPolicy) -> Arc<Self> {
        Arc::new(NodeMemory {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            policy,
            used: AtomicUsize::new(0),
            queries: Mutex::new(HashMap::new()),
        })
    }

    /// Bytes reserved by all queries of this node now.
    pub fn reserved(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The node pool's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The pool of `query_id` on this node, limited to `limit` bytes: the existing one when
    /// other tasks of the query already run here, else a new one.
    pub fn query_pool(self: &Arc<Self>, query_id: &str, limit: u64) -> Arc<QueryMemoryPool> {
        let mut queries = self.queries.lock();
        queries.retain(|_, pool| pool.strong_count() > 0);
        if let Some(pool) = queries.get(query_id).and_then(Weak::upgrade) {
            return pool;
        }
        let pool = Arc::new(QueryMemoryPool {
            query_id: query_id.to_string(),
            inner: TrackConsumersPool::new(
                GreedyMemoryPool::new(usize::try_from(limit).unwrap_or(usize::MAX)),
                NonZeroUsize::MIN.saturating_add(2),
            ),
            node: Arc::clone(self),
            counted: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            watched: AtomicBool::new(false),
            kill_notice: Notify::new(),
        });
        queries.insert(query_id.to_string(), Arc::downgrade(&pool));
        pool
    }

    /// Reserves `bytes` for `asking` if the node pool holds them, else applies the policy.
    fn try_reserve(&self, asking: &QueryMemoryPool, bytes: usize) -> DfResult<()> {
        if self.take(bytes, self.size) {
            return Ok(());
        }
        if !self.policy.kills() {
            return Err(out_of_memory());
        }
        // One decision at a time, so two requests do not pick two victims for one shortfall.
        let queries = self.queries.lock();
        let live: Vec<Arc<QueryMemoryPool>> = queries.values().filter_map(Weak::upgrade).collect();
        // Memory that killed queries are about to release may be lent out meanwhile, but only
        // where a watchdog ends the query at once (a query's pool on the coordinator); a
        // victim's tasks on a worker end only at their next request, so their memory is not
        // lent, which keeps the node's total within its size plus what is being released.
        let releasing: usize = live
            .iter()
            .filter(|q| q.is_killed() && q.is_watched())
            .map(|q| q.counted())
            .sum();
        if self.take(bytes, self.size.saturating_add(releasing)) {
            return Ok(());
        }
        // While a victim still holds memory, no other query is killed: the request fails.
        if live.iter().any(|q| q.is_killed() && q.counted() > 0) {
            return Err(out_of_memory());
        }
        let asking_after = asking.counted().saturating_add(bytes);
        let victim = live
            .iter()
            .filter(|q| !q.is_killed() && q.query_id != asking.query_id)
            .max_by_key(|q| q.counted())
            .filter(|q| q.counted() > asking_after);
        match victim {
            Some(victim) => {
                victim.kill(self);
                let lent = if victim.is_watched() {
                    victim.counted()
                } else {
                    0
                };
                let lendable = self.size.saturating_add(releasing).saturating_add(lent);
                if self.take(bytes, lendable) {
                    Ok(())
                } else {
                    Err(out_of_memory())
                }
            }
            None => {
                asking.kill(self);
                Err(out_of_memory())
            }
        }
    }

    /// Adds `bytes` to the node's total if it stays within `ceiling`.
    fn take(&self, bytes: usize, ceiling: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|after| *after <= ceiling)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        // Saturating: a release never takes the total below zero.
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }
}

/// The CLUSTER_OUT_OF_MEMORY failure, typed so that classification keeps its code.
fn out_of_memory() -> DataFusionError {
    EngineError::new(
        ErrorCode::CLUSTER_OUT_OF_MEMORY,
        CLUSTER_OUT_OF_MEMORY_MESSAGE,
    )
    .into_datafusion()
}

/// One query's memory on one node: its own limit inside, the node pool above.
#[derive(Debug)]
pub struct QueryMemoryPool {
    query_id: String,
    inner: TrackConsumersPool<GreedyMemoryPool>,
    node: Arc<NodeMemory>,
    /// Bytes this query holds in the node pool.
    counted: AtomicUsize,
    /// The most it held at once.
    peak: AtomicUsize,
    killed: AtomicBool,
    /// Whether something waits in [`QueryMemoryPool::killed`] to end the query.
    watched: AtomicBool,
    kill_notice: Notify,
}

impl QueryMemoryPool {
    /// Bytes this query holds on this node.
    pub fn counted(&self) -> usize {
        self.counted.load(Ordering::Acquire)
    }

    /// The most bytes this query held on this node at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    fn count(&self, bytes: usize) {
        let held = self
            .counted
            .fetch_add(bytes, Ordering::AcqRel)
            .saturating_add(bytes);
        self.peak.fetch_max(held, Ordering::AcqRel);
    }

    /// Whether the low-memory killer picked this query.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    fn is_watched(&self) -> bool {
        self.watched.load(Ordering::Acquire)
    }

    /// Declares that the query is ended as soon as [`QueryMemoryPool::killed`] completes (its
    /// watchdog on the coordinator), so the memory it holds when killed may be lent meanwhile.
    pub fn watch(&self) {
        self.watched.store(true, Ordering::Release);
    }

    /// Completes once the low-memory killer picks this query.
    pub async fn killed(&self) {
        loop {
            let notified = self.kill_notice.notified();
            if self.is_killed() {
                return;
            }
            notified.await;
        }
    }

    fn kill(&self, node: &NodeMemory) {
        if !self.killed.swap(true, Ordering::AcqRel) {
            warn!(
                query_id = %self.query_id,
                reserved = %format_data_size(self.counted() as u64),
                node_pool = %format_data_size(node.size as u64),
                "low-memory killer: ending the query holding the most memory on this node"
            );
            self.kill_notice.notify_waiters();
        }
    }
}

impl std::fmt::Display for QueryMemoryPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "memory of query {} ({})", self.query_id, self.inner)
    }
}

impl MemoryPool for QueryMemoryPool {
    fn name(&self) -> &str {
        "vivace_query"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.node.used.fetch_add(additional, Ordering::AcqRel);
        self.count(additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink);
        self.node.release(shrink);
        let _ = self
            .counted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(shrink))
            });
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> DfResult<()> {
        if self.is_killed() {
            return Err(out_of_memory());
        }
        // The query's own limit first: a query over it fails with its own error, not the
        // node's.
        self.inner.try_grow(reservation, additional)?;
        if let Err(error) = self.node.try_reserve(self, additional) {
            self.inner.shrink(reservation, additional);
            return Err(error);
        }
        self.count(additional);
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.inner.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory_limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reservation(pool: &Arc<QueryMemoryPool>, name: &str) -> MemoryReservation {
        let pool: Arc<dyn MemoryPool> = Arc::clone(pool) as Arc<dyn MemoryPool>;
        MemoryConsumer::new(name).register(&pool)
    }

    fn is_out_of_memory(error: &DataFusionError) -> bool {
        error.to_string().contains(CLUSTER_OUT_OF_MEMORY_MESSAGE)
    }

    #[test]
    fn policies_parse_by_trino_names() {
        assert_eq!(
            LowMemoryKillerPolicy::parse("total-reservation-on-blocked-nodes"),
            Ok(LowMemoryKillerPolicy::TotalReservationOnBlockedNodes)
        );
        assert_eq!(
            LowMemoryKillerPolicy::parse("NONE"),
            Ok(LowMemoryKillerPolicy::None)
        );
        assert!(LowMemoryKillerPolicy::parse("largest").is_err());
    }

    #[test]
    fn queries_share_the_node_pool_and_release_into_it() {
        let node = NodeMemory::new(1000, LowMemoryKillerPolicy::None);
        let a = node.query_pool("a", 800);
        let b = node.query_pool("b", 800);
        let ra = reservation(&a, "a");
        let rb = reservation(&b, "b");
        ra.try_grow(600).expect("a fits");
        let error = rb.try_grow(600).expect_err("the node is full");
        assert!(is_out_of_memory(&error), "{error}");
        assert_eq!(node.reserved(), 600);
        assert_eq!(b.reserved(), 0, "a refused request leaves nothing reserved");
        ra.shrink(300);
        rb.try_grow(600).expect("fits after a released memory");
        assert_eq!(node.reserved(), 900);
        drop(ra);
        drop(rb);
        assert_eq!(node.reserved(), 0);
    }

    #[test]
    fn the_query_limit_is_checked_before_the_node_pool() {
        let node = NodeMemory::new(1000, LowMemoryKillerPolicy::TotalReservation);
        let a = node.query_pool("a", 100);
        let ra = reservation(&a, "a");
        let error = ra.try_grow(200).expect_err("over the query's limit");
        assert!(!is_out_of_memory(&error), "{error}");
        assert!(!a.is_killed());
        assert_eq!(node.reserved(), 0);
    }

    #[test]
    fn the_killer_ends_the_largest_query_and_lends_its_memory() {
        let node = NodeMemory::new(1000, LowMemoryKillerPolicy::TotalReservation);
        let big = node.query_pool("big", 1000);
        let small = node.query_pool("small", 1000);
        big.watch();
        let rbig = reservation(&big, "big");
        let rsmall = reservation(&small, "small");
        rbig.try_grow(900).expect("big fits");
        rsmall.try_grow(50).expect("small fits");
        // The small query's next request does not fit: the big one is killed and the request
        // is granted against what it will release.
        rsmall.try_grow(100).expect("granted while the victim ends");
        assert!(big.is_killed());
        assert!(!small.is_killed());
        let error = rbig
            .try_grow(1)
            .expect_err("a killed query gets nothing more");
        assert!(is_out_of_memory(&error), "{error}");
        // A second shortfall while the victim still holds its memory kills no one else.
        rsmall.try_grow(100).expect("lent again");
        assert!(!small.is_killed());
        drop(rbig);
        assert_eq!(node.reserved(), 250);
    }

    #[test]
    fn memory_of_an_unwatched_victim_is_not_lent() {
        // Tasks on a worker end only at their next request: their memory is not lent, so
        // victims that keep holding memory cannot raise the node's total step by step.
        let node = NodeMemory::new(1000, LowMemoryKillerPolicy::TotalReservation);
        let big = node.query_pool("big", 1000);
        let small = node.query_pool("small", 1000);
        let rbig = reservation(&big, "big");
        let rsmall = reservation(&small, "small");
        rbig.try_grow(900).expect("big fits");
        let error = rsmall.try_grow(200).expect_err("nothing to lend");
        assert!(is_out_of_memory(&error), "{error}");
        assert!(big.is_killed());
        assert!(!small.is_killed());
        assert_eq!(node.reserved(), 900);
        // While the victim holds its memory, no one else is killed.
        let third = node.query_pool("third", 1000);
        let rthird = reservation(&third, "third");
        rsmall.try_grow(50).expect("fits beside the victim");
        assert!(rthird.try_grow(100).is_err());
        assert!(!small.is_killed() && !third.is_killed());
        drop(rbig);
        rsmall.try_grow(200).expect("room once the victim released");
    }

    #[test]
    fn the_asking_query_is_the_victim_when_it_is_the_largest() {
        let node = NodeMemory::new(1000, LowMemoryKillerPolicy::TotalReservationOnBlockedNodes);
        let big = node.query_pool("big", 2000);
        let small = node.query_pool("small", 1000);
        let rbig = reservation(&big, "big");
        let rsmall = reservation(&small, "small");
        rsmall.try_grow(100).expect("small fits");
        rbig.try_grow(800).expect("big fits");
        let error = rbig.try_grow(200).expect_err("big asks for too much");
        assert!(is_out_of_memory(&error), "{error}");
        assert!(big.is_killed());
        assert!(!small.is_killed());
    }

    #[test]
    fn infallible_growth_is_counted_on_the_node() {
        let node = NodeMemory::new(100, LowMemoryKillerPolicy::None);
        let a = node.query_pool("a", 1000);
        let ra = reservation(&a, "a");
        ra.grow(150);
        assert_eq!(node.reserved(), 150);
        let b = node.query_pool("b", 1000);
        let rb = reservation(&b, "b");
        assert!(rb.try_grow(1).is_err(), "the node is over its size");
        ra.shrink(150);
        rb.try_grow(1).expect("room again");
    }

    #[tokio::test]
    async fn a_killed_query_is_told() {
        let node = NodeMemory::new(100, LowMemoryKillerPolicy::TotalReservation);
        let big = node.query_pool("big", 1000);
        let small = node.query_pool("small", 1000);
        big.watch();
        let rbig = reservation(&big, "big");
        rbig.grow(90);
        let waiter = {
            let big = Arc::clone(&big);
            tokio::spawn(async move { big.killed().await })
        };
        let rsmall = reservation(&small, "small");
        rsmall.try_grow(20).expect("granted");
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("told in time")
            .expect("waiter");
    }
}
