//! Encoding a query's Arrow batches to the protocol's JSON rows ahead of the client.
//!
//! Each query gets one encoder task that reads the engine's events as they come and encodes
//! them while the client is still busy with the previous page, so encoding overlaps with
//! the client's fetches instead of adding to each one. A small bounded queue between the task
//! and the pages keeps the memory held for a slow reader to a few batches.

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
}

/// The options the query's client needs its values encoded with.
pub(crate) fn encode_options(handle: &QueryHandle) -> EncodeOptions {
    EncodeOptions {
        legacy_datetime: !handle.session().supports_parametric_datetime(),
    }
}

/// Starts the encoder task of `handle` and returns what it produces. The queue closes when
/// the engine's events end, when a batch cannot be encoded (the query is failed first), or
/// when the returned receiver is dropped (the task then stops reading).
pub(crate) fn spawn_encoder(handle: Arc<QueryHandle>) -> mpsc::Receiver<Encoded> {
    let (sender, receiver) = mpsc::channel(ENCODED_AHEAD);
    tokio::spawn(async move {
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
    });
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
        encode_batch(batch, types, options)
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
            handle.fail_output(QueryFailure::new(
                ErrorCode::GENERIC_INTERNAL_ERROR,
                "The result cannot be encoded for the client".to_string(),
                None,
            ));
            None
        }
    }
}
