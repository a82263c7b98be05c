//! Encoding a query's Arrow batches to the protocol's JSON rows ahead of the client.
//!
//! Each query gets one encoder task that reads the engine's events as they come and encodes
//! them while the client is still busy with the previous page, so encoding overlaps with
//! the client's fetches instead of adding to each one. A small bounded queue between the task
//! and the pages keeps the memory held for a slow reader to a few batches.
//!
//! The output is complete only when [`Encoded::End`] arrives: a queue that closes without it
//! (the task failed the query, or stopped in a way nobody expected) must never be shown to a
//! client as a finished result.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;
use vivace_common::ErrorCode;
use vivace_engine::{QueryEvent, QueryFailure, QueryHandle, ResultColumn};
use vivace_functions::encode::{EncodeOptions, encode_batch};
use vivace_protocol::TrinoType;

/// Encoded batches held ahead of the client, beyond the engine's own small buffer.
const ENCODED_AHEAD: usize = 2;

/// What the pages read: the engine's events with batches already encoded.
#[derive(Debug)]
pub(crate) enum Encoded {
    /// The result's columns (sent once, before any rows).
    Columns {
        columns: Vec<ResultColumn>,
        update_type: Option<String>,
    },
    /// The rows of one batch.
    Rows(Vec<Vec<Value>>),
    /// The engine's output ended and every batch was encoded.
    End,
}

/// The options the query's client needs its values encoded with.
pub(crate) fn encode_options(handle: &QueryHandle) -> EncodeOptions {
    EncodeOptions {
        legacy_datetime: !handle.session().supports_parametric_datetime(),
    }
}

/// Starts the encoder task of `handle` on `runtime` (the caller's when `None`) and returns what
/// it produces. The queue closes after [`Encoded::End`], when a batch cannot be encoded (the
/// query is failed first), or when the returned receiver is closed or dropped (the task then
/// stops reading).
pub(crate) fn spawn_encoder(
    handle: Arc<QueryHandle>,
    runtime: Option<tokio::runtime::Handle>,
) -> mpsc::Receiver<Encoded> {
    let (sender, receiver) = mpsc::channel(ENCODED_AHEAD);
    let task = async move {
        let options = encode_options(&handle);
        let mut types: Vec<TrinoType> = Vec::new();
        let mut events = handle.events().lock().await;
        while let Some(event) = events.recv().await {
            let encoded = match event {
                QueryEvent::Columns {
                    columns,
                    update_type,
                } => {
                    types = columns.iter().map(|c| c.trino_type.clone()).collect();
                    Encoded::Columns {
                        columns,
                        update_type,
                    }
                }
                QueryEvent::Batch(batch) => match encode(&handle, &batch, &types, options) {
                    Some(rows) => Encoded::Rows(rows),
                    None => return,
                },
            };
            if sender.send(encoded).await.is_err() {
                return;
            }
        }
        // A closed receiver needs no end.
        let _ = sender.send(Encoded::End).await;
    };
    match runtime {
        Some(runtime) => drop(runtime.spawn(task)),
        None => drop(tokio::spawn(task)),
    }
    receiver
}

/// `batch` as the protocol's rows; `None` after failing the query when it cannot be encoded
/// (a type or a column count the engine should not have produced). The query fails even if it
/// already finished: a client must never see a short result as complete.
fn encode(
    handle: &QueryHandle,
    batch: &arrow::array::RecordBatch,
    types: &[TrinoType],
    options: EncodeOptions,
) -> Option<Vec<Vec<Value>>> {
    let encoded = if batch.num_columns() == types.len() {
        // A panic in the encoder is a bug of ours; it fails this query, not the process.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            encode_batch(batch, types, options)
        }))
        .unwrap_or_else(|_| Err("the encoder panicked".to_string()))
    } else {
        Err(format!(
            "a batch of {} columns for {} announced columns",
            batch.num_columns(),
            types.len()
        ))
    };
    match encoded {
        Ok(rows) => Some(rows),
        Err(message) => {
            tracing::error!(query_id = %handle.id(), %message, "cannot encode a result");
            fail_undeliverable(handle);
            None
        }
    }
}

/// Fails the query because its result cannot reach the client whole, even if it finished;
/// the client sees a generic message, the log has the reason.
pub(crate) fn fail_undeliverable(handle: &QueryHandle) {
    handle.fail_output(QueryFailure::new(
        ErrorCode::GENERIC_INTERNAL_ERROR,
        "The result cannot be encoded for the client".to_string(),
        None,
    ));
}
