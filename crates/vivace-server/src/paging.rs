//! One query as the protocol sees it: its slug, its token sequence, the last page (for
//! idempotent re-fetches), and the building of pages from its encoder's rows
//! ([`crate::encoder`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use rand::Rng;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use vivace_engine::{QueryHandle, QueryState, ResultColumn};
use vivace_protocol::{Column, ProtocolHeaders, QueryResults, StatementStats};

use crate::encoder::{Encoded, encode_options, fail_undeliverable, spawn_encoder};
use crate::error::{RequestError, query_error};
use crate::headers::update_headers;

/// How long a GET waits for new output before answering with what it has.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// A response ready to send again if the client re-fetches its token.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    /// The JSON body.
    pub(crate) body: Bytes,
    /// Session headers to attach.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

/// Paging state guarded by the query's lock.
#[derive(Debug)]
struct PageState {
    /// Token of the last page served.
    token: u64,
    /// The last page served.
    last: Option<Page>,
    columns: Option<Vec<Column>>,
    update_type: Option<String>,
    /// The encoder task's output.
    encoded: mpsc::Receiver<Encoded>,
    /// Rows read from the encoder but not yet sent (a page was full).
    pending: VecDeque<Vec<Value>>,
    events_done: bool,
    /// The final page (without `nextUri`) has been served.
    complete: bool,
}

/// A query registered with the protocol layer.
#[derive(Debug)]
pub(crate) struct ProtocolQuery {
    pub(crate) handle: Arc<QueryHandle>,
    pub(crate) slug: String,
    pub(crate) family: ProtocolHeaders,
    state: tokio::sync::Mutex<PageState>,
    last_access: parking_lot::Mutex<Instant>,
    /// The final page has been served.
    complete: std::sync::atomic::AtomicBool,
}

impl ProtocolQuery {
    /// Registers `handle` with the protocol layer and starts encoding its output on `runtime`
    /// (the caller's, which must be a Tokio runtime, when `None`).
    pub(crate) fn new(
        handle: Arc<QueryHandle>,
        family: ProtocolHeaders,
        runtime: Option<tokio::runtime::Handle>,
    ) -> Self {
        let encoded = spawn_encoder(Arc::clone(&handle), runtime);
        let slug: String = {
            let mut rng = rand::rng();
            (0..16)
                .map(|_| {
                    char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)])
                })
                .collect()
        };
        ProtocolQuery {
            handle,
            slug: format!("y{slug}"),
            family,
            state: tokio::sync::Mutex::new(PageState {
                token: 0,
                last: None,
                columns: None,
                update_type: None,
                encoded,
                pending: VecDeque::new(),
                events_done: false,
                complete: false,
            }),
            last_access: parking_lot::Mutex::new(Instant::now()),
            complete: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(crate) fn touch(&self) {
        *self.last_access.lock() = Instant::now();
    }

    /// Whether the client has received the final page.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn idle_for(&self) -> Duration {
        self.last_access.lock().elapsed()
    }

    /// The response to `POST /v1/statement`: queued, no columns, a `nextUri` (token 1).
    pub(crate) async fn first_page(&self, base: &str) -> Page {
        let mut state = self.state.lock().await;
        let results = QueryResults {
            id: self.handle.id().to_string(),
            info_uri: info_uri(base, &self.handle),
            partial_cancel_uri: None,
            next_uri: Some(self.next_uri(base, false, 1)),
            columns: None,
            data: None,
            stats: StatementStats {
                state: QueryState::Queued.as_str().to_string(),
                queued: true,
                ..StatementStats::default()
            },
            error: None,
            warnings: vec![],
            update_type: None,
            update_count: None,
        };
        let page = Page {
            body: to_bytes(&results),
            headers: vec![],
        };
        state.token = 0;
        state.last = Some(page.clone());
        page
    }

    /// The page for `token`: the cached one again, the next one, or 404/410.
    pub(crate) async fn page(
        &self,
        token: u64,
        base: &str,
        target_bytes: usize,
    ) -> Result<Page, RequestError> {
        self.touch();
        let mut state = self.state.lock().await;
        if token == state.token {
            return state.last.clone().ok_or(RequestError::NotFound);
        }
        if token < state.token {
            return Err(RequestError::Gone);
        }
        if token != state.token + 1 || state.complete {
            return Err(RequestError::NotFound);
        }
        let page = self.next_page(&mut state, token, base, target_bytes).await;
        state.token = token;
        state.last = Some(page.clone());
        Ok(page)
    }

    /// The engine's columns as the protocol names them for this client.
    fn protocol_columns(&self, columns: &[ResultColumn]) -> Vec<Column> {
        let legacy = encode_options(&self.handle).legacy_datetime;
        columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                type_name: c.trino_type.display_name(legacy),
                type_signature: c.trino_type.signature(legacy),
            })
            .collect()
    }

    async fn next_page(
        &self,
        state: &mut PageState,
        token: u64,
        base: &str,
        target_bytes: usize,
    ) -> Page {
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = state.pending.pop_front() {
            bytes += estimate_row_bytes(&row);
            rows.push(row);
            if bytes >= target_bytes {
                break;
            }
        }
        if !state.events_done && bytes < target_bytes {
            let deadline = tokio::time::Instant::now() + MAX_WAIT;
            loop {
                let event = if rows.is_empty() {
                    match tokio::time::timeout_at(deadline, state.encoded.recv()).await {
                        Ok(event) => event,
                        Err(_) => break,
                    }
                } else {
                    match state.encoded.try_recv() {
                        Ok(event) => Some(event),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => None,
                    }
                };
                match event {
                    Some(Encoded::Columns {
                        columns,
                        update_type,
                    }) => {
                        state.columns = Some(self.protocol_columns(&columns));
                        state.update_type = update_type;
                    }
                    Some(Encoded::Rows(encoded)) => {
                        let mut batch = encoded.into_iter();
                        for row in batch.by_ref() {
                            bytes += estimate_row_bytes(&row);
                            rows.push(row);
                            if bytes >= target_bytes {
                                break;
                            }
                        }
                        state.pending.extend(batch);
                        if bytes >= target_bytes {
                            break;
                        }
                    }
                    Some(Encoded::End) => {
                        state.events_done = true;
                        break;
                    }
                    // Closed without an end: the encoder failed the query (its page then
                    // carries the failure and none of the rows read) or stopped unexpectedly,
                    // which must fail the query too rather than pass for a complete result.
                    None => {
                        if self.handle.status().state != QueryState::Failed {
                            tracing::error!(query_id = %self.handle.id(), "the result encoder stopped early");
                        }
                        fail_undeliverable(&self.handle);
                        state.events_done = true;
                        break;
                    }
                }
            }
        }

        let status = self.handle.status();
        let failed = status.state == QueryState::Failed;
        let finished = state.events_done && state.pending.is_empty() && status.state.is_done();
        let done = failed || finished;
        if done {
            // Whatever is still queued will never be sent: let the encoder stop.
            state.encoded.close();
            state.complete = true;
            self.complete
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let shown_state = if failed {
            QueryState::Failed
        } else if finished {
            QueryState::Finished
        } else if status.state.is_done() {
            QueryState::Finishing
        } else {
            status.state
        };
        let statistics = self.handle.statistics();
        let scheduled = !matches!(shown_state, QueryState::Queued | QueryState::Planning);
        let progress = (scheduled && statistics.total_splits > 0).then(|| {
            (statistics.completed_splits as f64 * 100.0 / statistics.total_splits as f64).min(100.0)
        });
        let elapsed = self.handle.elapsed();
        let stats = StatementStats {
            state: shown_state.as_str().to_string(),
            queued: shown_state == QueryState::Queued,
            scheduled,
            nodes: 1,
            total_splits: statistics.total_splits as i32,
            queued_splits: 0,
            running_splits: if done {
                0
            } else {
                (statistics.total_splits - statistics.completed_splits) as i32
            },
            completed_splits: statistics.completed_splits as i32,
            cpu_time_millis: statistics.cpu_time.as_millis() as i64,
            wall_time_millis: elapsed.as_millis() as i64,
            queued_time_millis: self.handle.queued_time().as_millis() as i64,
            elapsed_time_millis: elapsed.as_millis() as i64,
            processed_rows: statistics.processed_rows,
            processed_bytes: statistics.processed_bytes,
            physical_input_bytes: statistics.processed_bytes,
            peak_memory_bytes: statistics.peak_memory_bytes,
            spilled_bytes: 0,
            progress_percentage: progress,
        };
        let results = QueryResults {
            id: self.handle.id().to_string(),
            info_uri: info_uri(base, &self.handle),
            partial_cancel_uri: None,
            next_uri: (!done).then(|| self.next_uri(base, state.columns.is_some(), token + 1)),
            columns: if failed { None } else { state.columns.clone() },
            data: (!failed && !rows.is_empty()).then_some(rows),
            stats,
            error: status.failure.as_ref().map(query_error),
            warnings: vec![],
            update_type: if failed {
                None
            } else {
                state.update_type.clone().or(status.update_type.clone())
            },
            update_count: if finished { status.update_count } else { None },
        };
        let headers = if status.state.is_done() && !failed {
            update_headers(&status.session_update, self.family)
        } else {
            vec![]
        };
        Page {
            body: to_bytes(&results),
            headers,
        }
    }

    fn next_uri(&self, base: &str, executing: bool, token: u64) -> String {
        let kind = if executing { "executing" } else { "queued" };
        format!(
            "{base}/v1/statement/{kind}/{}/{}/{token}",
            self.handle.id(),
            self.slug
        )
    }
}

fn info_uri(base: &str, handle: &QueryHandle) -> String {
    format!("{base}/ui/query.html?{}", handle.id())
}

fn to_bytes(results: &QueryResults) -> Bytes {
    // Serialising these plain structs cannot fail; fall back to an empty object regardless.
    Bytes::from(serde_json::to_vec(results).unwrap_or_else(|_| b"{}".to_vec()))
}

/// A cheap upper estimate of a row's JSON size.
fn estimate_row_bytes(row: &[Value]) -> usize {
    row.iter().map(estimate_value_bytes).sum::<usize>() + 2
}

#[recursive::recursive]
fn estimate_value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 20,
        Value::String(s) => s.len() + 8,
        Value::Array(items) => items.iter().map(estimate_value_bytes).sum::<usize>() + 2,
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| k.len() + 4 + estimate_value_bytes(v))
            .sum::<usize>(),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, RecordBatch};
    use vivace_common::QueryIdGenerator;
    use vivace_engine::{QueryEvent, Session};
    use vivace_protocol::TrinoType;

    use super::*;

    fn batch(columns: usize) -> RecordBatch {
        let arrays: Vec<(String, arrow::array::ArrayRef)> = (0..columns)
            .map(|i| {
                let values: arrow::array::ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
                (format!("c{i}"), values)
            })
            .collect();
        RecordBatch::try_from_iter(arrays).unwrap()
    }

    /// The columns the test queries announce: one bigint `c0`.
    fn one_bigint_column() -> Vec<ResultColumn> {
        vec![ResultColumn {
            name: "c0".into(),
            trino_type: TrinoType::Bigint,
        }]
    }

    /// The second page of a query that announced one bigint column and then sent `sent`.
    async fn page_after(sent: RecordBatch) -> (Value, Arc<QueryHandle>) {
        let id = QueryIdGenerator::new().next_id();
        let (handle, events) = QueryHandle::new(id, Session::default(), "SELECT".into());
        let query = ProtocolQuery::new(Arc::clone(&handle), ProtocolHeaders::Trino, None);
        let columns = one_bigint_column();
        events
            .send(QueryEvent::Columns {
                columns,
                update_type: None,
            })
            .await
            .unwrap();
        events.send(QueryEvent::Batch(sent)).await.unwrap();
        drop(events);
        query.first_page("http://localhost").await;
        let page = query.page(1, "http://localhost", 1 << 20).await.unwrap();
        (serde_json::from_slice(&page.body).unwrap(), handle)
    }

    #[tokio::test]
    async fn the_engines_batches_become_json_rows() {
        let (body, _) = page_after(batch(1)).await;
        assert_eq!(body["columns"][0]["type"], "bigint");
        assert_eq!(body["data"], serde_json::json!([[1], [2]]));
    }

    #[tokio::test]
    async fn output_that_stops_without_its_end_fails_the_query() {
        let id = QueryIdGenerator::new().next_id();
        let (handle, _events) = QueryHandle::new(id, Session::default(), "SELECT".into());
        let query = ProtocolQuery::new(Arc::clone(&handle), ProtocolHeaders::Trino, None);
        let (sender, receiver) = mpsc::channel(4);
        let columns = one_bigint_column();
        sender
            .send(Encoded::Columns {
                columns,
                update_type: None,
            })
            .await
            .unwrap();
        sender
            .send(Encoded::Rows(vec![vec![serde_json::json!(1)]]))
            .await
            .unwrap();
        drop(sender);
        query.state.lock().await.encoded = receiver;
        query.first_page("http://localhost").await;
        let page = query.page(1, "http://localhost", 1 << 20).await.unwrap();
        let body: Value = serde_json::from_slice(&page.body).unwrap();
        assert_eq!(body["stats"]["state"], "FAILED", "{body}");
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(handle.status().state, QueryState::Failed);
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_encoded_fails_the_query_without_internals() {
        let (body, handle) = page_after(batch(2)).await;
        assert_eq!(body["stats"]["state"], "FAILED");
        assert_eq!(body["error"]["errorName"], "GENERIC_INTERNAL_ERROR");
        assert_eq!(
            body["error"]["message"],
            "The result cannot be encoded for the client"
        );
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(handle.status().state, QueryState::Failed);
    }
}
