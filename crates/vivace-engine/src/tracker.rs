//! The queries this node knows: running ones, and the most recent finished ones for
//! `system.runtime.queries` and `/v1/query`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use vivace_common::QueryId;

use crate::query::QueryHandle;

/// Bytes of statement text the finished queries kept in the history may hold together: a
/// hundred statements of `query.max-length` would otherwise keep hundreds of MB.
pub(crate) const MAX_HISTORY_TEXT_BYTES: usize = 16 << 20;

/// Running and recently finished queries.
#[derive(Debug)]
pub(crate) struct QueryTracker {
    max_history: usize,
    inner: Mutex<TrackerState>,
}

#[derive(Debug, Default)]
struct TrackerState {
    by_id: HashMap<QueryId, Arc<QueryHandle>>,
    order: VecDeque<QueryId>,
}

impl QueryTracker {
    /// A tracker keeping at most `max_history` finished queries.
    pub(crate) fn new(max_history: usize) -> Self {
        QueryTracker {
            max_history,
            inner: Mutex::new(TrackerState::default()),
        }
    }

    /// Records a new query, forgetting the oldest finished ones beyond the history limits
    /// (`query.max-history` queries, [`MAX_HISTORY_TEXT_BYTES`] of their text).
    pub(crate) fn add(&self, query: Arc<QueryHandle>) {
        let mut state = self.inner.lock();
        state.order.push_back(query.id().clone());
        state.by_id.insert(query.id().clone(), query);
        let (mut finished, mut text) = (0usize, 0usize);
        for query in state.by_id.values() {
            if query.status().state.is_done() {
                finished += 1;
                text = text.saturating_add(query.sql().len());
            }
        }
        let mut index = 0;
        while (finished > self.max_history || text > MAX_HISTORY_TEXT_BYTES)
            && index < state.order.len()
        {
            let id = state.order[index].clone();
            match state.by_id.get(&id) {
                Some(q) if !q.status().state.is_done() => index += 1,
                found => {
                    if let Some(q) = found {
                        finished -= 1;
                        text = text.saturating_sub(q.sql().len());
                    }
                    state.by_id.remove(&id);
                    state.order.remove(index);
                }
            }
        }
    }

    /// A query by id.
    pub(crate) fn get(&self, id: &QueryId) -> Option<Arc<QueryHandle>> {
        self.inner.lock().by_id.get(id).cloned()
    }

    /// Every known query, oldest first.
    pub(crate) fn list(&self) -> Vec<Arc<QueryHandle>> {
        let state = self.inner.lock();
        state
            .order
            .iter()
            .filter_map(|id| state.by_id.get(id).cloned())
            .collect()
    }

    /// How many queries have not ended.
    pub(crate) fn running(&self) -> usize {
        self.inner
            .lock()
            .by_id
            .values()
            .filter(|q| !q.status().state.is_done())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use vivace_common::{ErrorCode, QueryIdGenerator};

    use super::*;
    use crate::error::QueryFailure;
    use crate::session::Session;

    fn finished(ids: &QueryIdGenerator, sql: String) -> Arc<QueryHandle> {
        let (handle, _events) = QueryHandle::new(ids.next_id(), Session::default(), sql);
        handle.fail(QueryFailure::new(
            ErrorCode::USER_CANCELED,
            "done".to_string(),
            None,
        ));
        handle
    }

    #[test]
    fn history_is_bounded_in_count_and_in_text() {
        let ids = QueryIdGenerator::new();
        let tracker = QueryTracker::new(3);
        let (running, _events) = QueryHandle::new(ids.next_id(), Session::default(), "x".into());
        tracker.add(Arc::clone(&running));
        for n in 0..5 {
            tracker.add(finished(&ids, format!("SELECT {n}")));
        }
        let kept: Vec<String> = tracker.list().iter().map(|q| q.sql().to_string()).collect();
        assert_eq!(kept, ["x", "SELECT 2", "SELECT 3", "SELECT 4"]);

        let big = "y".repeat(MAX_HISTORY_TEXT_BYTES / 2 + 1);
        tracker.add(finished(&ids, big.clone()));
        tracker.add(finished(&ids, big));
        let kept = tracker.list();
        assert_eq!(kept.len(), 2, "the running query and one large statement");
        assert!(Arc::ptr_eq(&kept[0], &running));
    }
}
