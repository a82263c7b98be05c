//! The queries this node knows: running ones, and the most recent finished ones for
//! `system.runtime.queries` and `/v1/query`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use vivace_common::QueryId;

use crate::query::QueryHandle;

/// Running and recently finished queries.
#[derive(Debug)]
pub struct QueryTracker {
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
    pub fn new(max_history: usize) -> Self {
        QueryTracker {
            max_history,
            inner: Mutex::new(TrackerState::default()),
        }
    }

    /// Records a new query, forgetting the oldest finished ones beyond the history limit.
    pub fn add(&self, query: Arc<QueryHandle>) {
        let mut state = self.inner.lock();
        state.order.push_back(query.id().clone());
        state.by_id.insert(query.id().clone(), query);
        let finished = state
            .by_id
            .values()
            .filter(|q| q.status().state.is_done())
            .count();
        let mut excess = finished.saturating_sub(self.max_history);
        let mut index = 0;
        while excess > 0 && index < state.order.len() {
            let id = state.order[index].clone();
            let done = state
                .by_id
                .get(&id)
                .is_none_or(|q| q.status().state.is_done());
            if done {
                state.by_id.remove(&id);
                state.order.remove(index);
                excess -= 1;
            } else {
                index += 1;
            }
        }
    }

    /// A query by id.
    pub fn get(&self, id: &QueryId) -> Option<Arc<QueryHandle>> {
        self.inner.lock().by_id.get(id).cloned()
    }

    /// Every known query, oldest first.
    pub fn list(&self) -> Vec<Arc<QueryHandle>> {
        let state = self.inner.lock();
        state
            .order
            .iter()
            .filter_map(|id| state.by_id.get(id).cloned())
            .collect()
    }

    /// How many queries have not ended.
    pub fn running(&self) -> usize {
        self.inner
            .lock()
            .by_id
            .values()
            .filter(|q| !q.status().state.is_done())
            .count()
    }
}
