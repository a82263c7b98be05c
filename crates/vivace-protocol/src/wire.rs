//! JSON documents of the protocol, named as the Trino client names them.

use serde::{Deserialize, Serialize};

use crate::types::ClientTypeSignature;

/// One response of `/v1/statement` and its `nextUri`s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResults {
    /// The query id.
    pub id: String,
    /// The query's page in the web UI.
    pub info_uri: String,
    /// Cancels the leaf stage only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_cancel_uri: Option<String>,
    /// The next page; absent once the query is done and every row delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_uri: Option<String>,
    /// The output columns, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<Column>>,
    /// The rows of this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<Vec<serde_json::Value>>>,
    /// Progress and resource use.
    pub stats: StatementStats,
    /// Present only when the query failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<QueryError>,
    /// Warnings raised while planning or running.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// For statements that are not queries: `INSERT`, `CREATE TABLE`, `SET SESSION`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_type: Option<String>,
    /// Rows written by DML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_count: Option<i64>,
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    /// The column's name (`_col0` for unnamed expressions).
    pub name: String,
    /// The display type, such as `decimal(10, 2)`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The structured type.
    pub type_signature: ClientTypeSignature,
}

/// Progress and resource use of a query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementStats {
    /// `QUEUED`, `RUNNING`, `FINISHED`, `FAILED`, ...
    pub state: String,
    /// Whether the query is waiting to run.
    pub queued: bool,
    /// Whether its work has been scheduled.
    pub scheduled: bool,
    /// Nodes taking part.
    pub nodes: i32,
    /// Splits in all.
    pub total_splits: i32,
    /// Splits waiting.
    pub queued_splits: i32,
    /// Splits running.
    pub running_splits: i32,
    /// Splits done.
    pub completed_splits: i32,
    /// CPU time.
    pub cpu_time_millis: i64,
    /// Wall time spent working.
    pub wall_time_millis: i64,
    /// Time spent queued.
    pub queued_time_millis: i64,
    /// Time since the query was created.
    pub elapsed_time_millis: i64,
    /// Rows read from sources.
    pub processed_rows: i64,
    /// Bytes read from sources.
    pub processed_bytes: i64,
    /// Bytes read from storage.
    pub physical_input_bytes: i64,
    /// Peak memory.
    pub peak_memory_bytes: i64,
    /// Bytes spilled to disk.
    pub spilled_bytes: i64,
    /// Percent of splits done, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<f64>,
}

/// The `error` object of a failed query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryError {
    /// The message, `line L:C: ...` for errors with a location.
    pub message: String,
    /// The numeric error code.
    pub error_code: i32,
    /// The error name, such as `TABLE_NOT_FOUND`.
    pub error_name: String,
    /// `USER_ERROR`, `INTERNAL_ERROR`, `INSUFFICIENT_RESOURCES` or `EXTERNAL`.
    pub error_type: String,
    /// Where in the SQL text the error is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_location: Option<ErrorLocation>,
    /// Java-style failure details; clients require `type`, `suppressed` and `stack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_info: Option<FailureInfo>,
}

/// A 1-based position in the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLocation {
    /// Line, from 1.
    pub line_number: u32,
    /// Column, from 1.
    pub column_number: u32,
}

/// Failure details in the shape of Trino's `FailureInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureInfo {
    /// The exception class name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The cause, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<FailureInfo>>,
    /// Suppressed failures (always present, may be empty).
    #[serde(default)]
    pub suppressed: Vec<FailureInfo>,
    /// Stack frames (always present, may be empty).
    #[serde(default)]
    pub stack: Vec<String>,
    /// Where in the SQL text the error is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_location: Option<ErrorLocation>,
}

/// A warning code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningCode {
    /// The number.
    pub code: i32,
    /// The name.
    pub name: String,
}

/// A warning attached to a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// Its code.
    pub warning_code: WarningCode,
    /// Its message.
    pub message: String,
}

/// `GET /v1/info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The reported version.
    pub node_version: NodeVersion,
    /// `node.environment`.
    pub environment: String,
    /// Whether this node is a coordinator.
    pub coordinator: bool,
    /// Whether the node is still starting.
    pub starting: bool,
    /// Time since start, as an airlift duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime: Option<String>,
}

/// The `nodeVersion` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeVersion {
    /// A Trino-style version number.
    pub version: String,
}
