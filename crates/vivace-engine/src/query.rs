//! A running query as the server sees it: its state, its output as a stream of events, its
//! statistics, and cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use chrono::{DateTime, Utc};
use datafusion::physical_plan::ExecutionPlan;
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vivace_common::{ErrorCode, QueryId};
use vivace_protocol::TrinoType;
use vivace_spi::ScanCounters;

use crate::error::QueryFailure;
use crate::session::{Session, SessionUpdate};

/// A query's lifecycle state, named as Trino names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryState {
    /// Accepted, not yet planned.
    Queued,
    /// Being planned.
    Planning,
    /// Producing results.
    Running,
    /// Every row produced; waiting for the client to fetch the rest.
    Finishing,
    /// Done.
    Finished,
    /// Failed or canceled.
    Failed,
}

impl QueryState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryState::Queued => "QUEUED",
            QueryState::Planning => "PLANNING",
            QueryState::Running => "RUNNING",
            QueryState::Finishing => "FINISHING",
            QueryState::Finished => "FINISHED",
            QueryState::Failed => "FAILED",
        }
    }

    /// Whether the query has ended.
    pub fn is_done(self) -> bool {
        matches!(self, QueryState::Finished | QueryState::Failed)
    }
}

/// Output of a query, in order: first [`QueryEvent::Columns`], then any number of
/// [`QueryEvent::Batch`]es. The channel closes when the query ends; its outcome is then in
/// [`QueryHandle::status`].
#[derive(Debug)]
pub enum QueryEvent {
    /// The output columns and, for statements that are not queries, the update type.
    Columns {
        /// The columns.
        columns: Vec<ResultColumn>,
        /// `INSERT`, `CREATE TABLE`, `SET SESSION`, ...
        update_type: Option<String>,
    },
    /// Rows as Arrow, their columns in the order and with the types of `Columns`; the server
    /// encodes them for its protocol.
    Batch(RecordBatch),
}

/// One output column: its name and the Trino type its Arrow values are read as.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumn {
    /// The name.
    pub name: String,
    /// The Trino type.
    pub trino_type: TrinoType,
}

/// What the client is told about a query's state and outcome.
#[derive(Debug, Clone)]
pub struct QueryStatus {
    /// The state.
    pub state: QueryState,
    /// Why it failed.
    pub failure: Option<QueryFailure>,
    /// The update type, once known.
    pub update_type: Option<String>,
    /// Rows written by DML.
    pub update_count: Option<i64>,
    /// Session changes for the client.
    pub session_update: SessionUpdate,
    /// When execution started.
    pub started: Option<Instant>,
    /// When it ended.
    pub ended: Option<Instant>,
    /// When it ended, as a wall-clock time.
    pub ended_at: Option<DateTime<Utc>>,
}

/// Counters that grow while a query runs.
#[derive(Debug, Default)]
pub(crate) struct QueryCounters {
    /// Rows sent to the client.
    pub output_rows: AtomicU64,
    /// Peak memory reserved by the query.
    pub peak_memory_bytes: AtomicI64,
    /// Splits (leaf partitions) in the plan.
    pub total_splits: AtomicI64,
}

/// Statistics derived for the protocol's `stats` object.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryStatistics {
    /// Rows read by the leaf operators.
    pub processed_rows: i64,
    /// Bytes read by the leaf operators.
    pub processed_bytes: i64,
    /// Splits in all.
    pub total_splits: i64,
    /// Splits done.
    pub completed_splits: i64,
    /// Peak memory.
    pub peak_memory_bytes: i64,
    /// CPU time of the operators.
    pub cpu_time: Duration,
}

/// A query: identity, text, state and output.
#[derive(Debug)]
pub struct QueryHandle {
    id: QueryId,
    session: Session,
    sql: String,
    created: Instant,
    created_at: DateTime<Utc>,
    status: Mutex<QueryStatus>,
    events: tokio::sync::Mutex<mpsc::Receiver<QueryEvent>>,
    cancel: CancellationToken,
    counters: QueryCounters,
    scans: Arc<ScanCounters>,
    /// The running plan, for its metrics. Dropped when the query ends, with a last reading of
    /// its statistics: operators such as repartitioning keep their input tasks alive for as
    /// long as the plan lives, and an ended query must stop using CPU.
    plan: Mutex<Option<Arc<dyn ExecutionPlan>>>,
    /// The statistics read when the plan was dropped.
    final_statistics: Mutex<Option<QueryStatistics>>,
}

impl QueryHandle {
    /// A new queued query and the sender its executor writes events to (for implementations
    /// of [`QueryService`](crate::QueryService)).
    pub fn new(
        id: QueryId,
        session: Session,
        sql: String,
    ) -> (Arc<Self>, mpsc::Sender<QueryEvent>) {
        // A small buffer bounds the memory held for a client that reads slowly.
        let (sender, receiver) = mpsc::channel(4);
        let handle = Arc::new(QueryHandle {
            id,
            session,
            sql,
            created: Instant::now(),
            created_at: Utc::now(),
            status: Mutex::new(QueryStatus {
                state: QueryState::Queued,
                failure: None,
                update_type: None,
                update_count: None,
                session_update: SessionUpdate::default(),
                started: None,
                ended: None,
                ended_at: None,
            }),
            events: tokio::sync::Mutex::new(receiver),
            cancel: CancellationToken::new(),
            counters: QueryCounters::default(),
            scans: Arc::new(ScanCounters::default()),
            plan: Mutex::new(None),
            final_statistics: Mutex::new(None),
        });
        (handle, sender)
    }

    /// The query id.
    pub fn id(&self) -> &QueryId {
        &self.id
    }

    /// The session it runs in.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// When it was created.
    pub fn created(&self) -> Instant {
        self.created
    }

    /// When it was created, as a wall-clock time.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// A snapshot of its status.
    pub fn status(&self) -> QueryStatus {
        self.status.lock().clone()
    }

    /// The event stream; one reader at a time.
    pub fn events(&self) -> &tokio::sync::Mutex<mpsc::Receiver<QueryEvent>> {
        &self.events
    }

    /// The token that stops the executor.
    pub(crate) fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Counters updated while running.
    pub(crate) fn counters(&self) -> &QueryCounters {
        &self.counters
    }

    /// Counters that connector scans without DataFusion metrics add to.
    pub(crate) fn scan_counters(&self) -> Arc<ScanCounters> {
        Arc::clone(&self.scans)
    }

    pub(crate) fn set_plan(&self, plan: Arc<dyn ExecutionPlan>) {
        *self.plan.lock() = Some(plan);
    }

    pub(crate) fn update_status(&self, change: impl FnOnce(&mut QueryStatus)) {
        change(&mut self.status.lock());
    }

    /// Moves to `state` unless the query already ended.
    pub(crate) fn transition(&self, state: QueryState) {
        let mut status = self.status.lock();
        if status.state.is_done() {
            return;
        }
        if state == QueryState::Running && status.started.is_none() {
            status.started = Some(Instant::now());
        }
        status.state = state;
        if state.is_done() {
            status.ended = Some(Instant::now());
            status.ended_at = Some(Utc::now());
            drop(status);
            self.release_plan();
        }
    }

    /// Keeps the plan's last statistics and drops the plan, stopping whatever of it still runs.
    fn release_plan(&self) {
        let statistics = self.statistics();
        let plan = self.plan.lock().take();
        if plan.is_some() {
            *self.final_statistics.lock() = Some(statistics);
        }
        drop(plan);
    }

    /// Fails the query unless it already ended; returns whether this call failed it.
    pub fn fail(&self, failure: QueryFailure) -> bool {
        {
            let mut status = self.status.lock();
            if status.state.is_done() {
                return false;
            }
            status.state = QueryState::Failed;
            status.failure = Some(failure);
            status.ended = Some(Instant::now());
            status.ended_at = Some(Utc::now());
        }
        self.cancel.cancel();
        self.release_plan();
        true
    }

    /// Fails the query because its output cannot be delivered to the client: like
    /// [`fail`](Self::fail), and also when it already finished (its rows were not all sent),
    /// but never over an earlier failure.
    pub fn fail_output(&self, failure: QueryFailure) {
        if self.fail(failure.clone()) {
            return;
        }
        let mut status = self.status.lock();
        if status.state == QueryState::Finished {
            status.state = QueryState::Failed;
            status.failure = Some(failure);
            status.update_count = None;
        }
    }

    /// Cancels the query at the user's request.
    pub fn cancel(&self) {
        self.fail(QueryFailure::new(
            ErrorCode::USER_CANCELED,
            "Query was canceled".to_string(),
            None,
        ));
    }

    /// Statistics for the protocol, read from the running plan's metrics.
    pub fn statistics(&self) -> QueryStatistics {
        if let Some(stats) = *self.final_statistics.lock() {
            return stats;
        }
        let mut stats = QueryStatistics {
            peak_memory_bytes: self.counters.peak_memory_bytes.load(Ordering::Relaxed),
            total_splits: self.counters.total_splits.load(Ordering::Relaxed),
            ..QueryStatistics::default()
        };
        if let Some(plan) = self.plan.lock().as_ref() {
            collect_leaf_metrics(plan.as_ref(), &mut stats);
        }
        stats.processed_rows += self.scans.rows.load(Ordering::Relaxed) as i64;
        stats.processed_bytes += self.scans.bytes.load(Ordering::Relaxed) as i64;
        if self.status.lock().state.is_done() {
            stats.completed_splits = stats.total_splits;
        }
        stats
    }

    /// Time from creation to the end, or to now.
    pub fn elapsed(&self) -> Duration {
        match self.status.lock().ended {
            Some(ended) => ended.duration_since(self.created),
            None => self.created.elapsed(),
        }
    }

    /// Time spent queued and planning before execution started.
    pub fn queued_time(&self) -> Duration {
        match self.status.lock().started {
            Some(started) => started.duration_since(self.created),
            None => self.created.elapsed(),
        }
    }
}

#[recursive::recursive]
fn collect_leaf_metrics(plan: &dyn ExecutionPlan, stats: &mut QueryStatistics) {
    if let Some(metrics) = plan.metrics() {
        let compute = metrics.elapsed_compute().unwrap_or(0);
        stats.cpu_time += Duration::from_nanos(compute as u64);
        // Generated-table scans count themselves in `ScanCounters`.
        if plan.children().is_empty() && plan.name() != "StreamingTableExec" {
            stats.processed_rows += metrics.output_rows().unwrap_or(0) as i64;
            stats.processed_bytes += metrics
                .sum_by_name("bytes_scanned")
                .map_or(0, |v| v.as_usize() as i64);
        }
    }
    for child in plan.children() {
        collect_leaf_metrics(child.as_ref(), stats);
    }
}

#[cfg(test)]
mod tests {
    use vivace_common::QueryIdGenerator;

    use super::*;

    fn failure(message: &str) -> QueryFailure {
        QueryFailure::new(ErrorCode::GENERIC_INTERNAL_ERROR, message.into(), None)
    }

    #[test]
    fn undeliverable_output_fails_a_finished_query_but_not_a_failed_one() {
        let ids = QueryIdGenerator::new();
        let (finished, _events) = QueryHandle::new(ids.next_id(), Session::default(), "q".into());
        finished.update_status(|s| {
            s.state = QueryState::Finished;
            s.update_count = Some(3);
        });
        assert!(!finished.fail(failure("too late")));
        finished.fail_output(failure("cannot encode"));
        let status = finished.status();
        assert_eq!(status.state, QueryState::Failed);
        assert_eq!(status.update_count, None);
        assert_eq!(
            status.failure.map(|f| f.message),
            Some("cannot encode".into())
        );

        let (failed, _events) = QueryHandle::new(ids.next_id(), Session::default(), "q".into());
        failed.cancel();
        failed.fail_output(failure("cannot encode"));
        let code = failed.status().failure.map(|f| f.code);
        assert_eq!(code, Some(ErrorCode::USER_CANCELED));
    }
}
