//! The session properties `SET SESSION` accepts, with their types, defaults and validation.

use std::time::Duration;

use vivace_common::ErrorCode;
use vivace_common::properties::{parse_data_size, parse_duration};

use crate::config::EngineConfig;
use crate::error::{EngineError, EngineResult};
use crate::session::Session;

/// One property's definition.
#[derive(Debug, Clone)]
pub struct SessionPropertyInfo {
    /// Its name.
    pub name: &'static str,
    /// Its default value, as text.
    pub default: String,
    /// Its SQL type (`varchar`, `bigint`, `boolean`).
    pub type_name: &'static str,
    /// What it does.
    pub description: &'static str,
}

const QUERY_MAX_EXECUTION_TIME: &str = "query_max_execution_time";
const QUERY_MAX_RUN_TIME: &str = "query_max_run_time";
const QUERY_MAX_MEMORY_PER_NODE: &str = "query_max_memory_per_node";
const TASK_CONCURRENCY: &str = "task_concurrency";
/// The session's time zone as `SET TIME ZONE` sets it; hidden from `SHOW SESSION`, as in
/// Trino, and preferred over the client's `X-Trino-Time-Zone`.
pub const TIME_ZONE_ID: &str = "time_zone_id";

/// All system session properties with their defaults from the server configuration.
pub fn system_properties(config: &EngineConfig) -> Vec<SessionPropertyInfo> {
    vec![
        SessionPropertyInfo {
            name: QUERY_MAX_EXECUTION_TIME,
            default: vivace_common::properties::format_duration(config.query_max_execution_time),
            type_name: "varchar",
            description: "Maximum execution time of a query",
        },
        SessionPropertyInfo {
            name: QUERY_MAX_MEMORY_PER_NODE,
            default: format!("{}B", config.query_max_memory_per_node),
            type_name: "varchar",
            description: "Maximum amount of memory a query can use on one node",
        },
        SessionPropertyInfo {
            name: QUERY_MAX_RUN_TIME,
            default: vivace_common::properties::format_duration(config.query_max_run_time),
            type_name: "varchar",
            description: "Maximum run time of a query, including time queued",
        },
        SessionPropertyInfo {
            name: TASK_CONCURRENCY,
            default: config.target_partitions.to_string(),
            type_name: "bigint",
            description: "Parallelism of each stage of a query on one node",
        },
    ]
}

/// Checks a `SET SESSION` value and returns it normalised.
pub fn validate(name: &str, value: &str) -> EngineResult<String> {
    let invalid = |message: String| {
        EngineError::new(
            ErrorCode::INVALID_SESSION_PROPERTY,
            format!("Invalid value '{value}' for session property '{name}': {message}"),
        )
    };
    match name {
        QUERY_MAX_EXECUTION_TIME | QUERY_MAX_RUN_TIME => {
            parse_duration(value).map_err(invalid)?;
        }
        QUERY_MAX_MEMORY_PER_NODE => {
            parse_data_size(value).map_err(invalid)?;
        }
        TASK_CONCURRENCY => match value.parse::<usize>() {
            Ok(n) if n > 0 && n <= 1024 => {}
            _ => return Err(invalid("expected an integer from 1 to 1024".into())),
        },
        TIME_ZONE_ID => {
            return crate::context::validate_time_zone(value).map_err(|e| invalid(e.to_string()));
        }
        other => {
            return Err(EngineError::new(
                ErrorCode::INVALID_SESSION_PROPERTY,
                format!("Session property '{other}' does not exist"),
            ));
        }
    }
    Ok(value.to_string())
}

/// The limits and knobs that apply to one query, from the configuration and the session.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    /// Time allowed for execution.
    pub max_execution_time: Duration,
    /// Time allowed from creation to end.
    pub max_run_time: Duration,
    /// Memory allowed on this node, in bytes.
    pub max_memory_per_node: u64,
    /// Memory allowed on all nodes together, in bytes (`query.max-memory`).
    pub max_memory: u64,
    /// Partitions per stage.
    pub target_partitions: usize,
}

impl QueryLimits {
    /// Resolves the limits; session values may only lower the server's memory limit.
    pub fn resolve(config: &EngineConfig, session: &Session) -> EngineResult<Self> {
        let mut limits = QueryLimits {
            max_execution_time: config.query_max_execution_time,
            max_run_time: config.query_max_run_time,
            max_memory_per_node: config
                .query_max_memory_per_node
                .min(config.query_max_memory),
            max_memory: config.query_max_memory,
            target_partitions: config.target_partitions,
        };
        for (name, value) in &session.properties {
            if name.contains('.') {
                // Catalog session properties: no built-in connector defines any yet.
                return Err(EngineError::new(
                    ErrorCode::INVALID_SESSION_PROPERTY,
                    format!("Session property '{name}' does not exist"),
                ));
            }
            let value = validate(name, value)?;
            match name.as_str() {
                QUERY_MAX_EXECUTION_TIME => {
                    limits.max_execution_time = parse_duration(&value).unwrap_or_default()
                }
                QUERY_MAX_RUN_TIME => {
                    limits.max_run_time = parse_duration(&value).unwrap_or_default()
                }
                QUERY_MAX_MEMORY_PER_NODE => {
                    let bytes = parse_data_size(&value).unwrap_or(u64::MAX);
                    limits.max_memory_per_node = limits.max_memory_per_node.min(bytes);
                }
                TASK_CONCURRENCY => {
                    limits.target_partitions = value.parse().unwrap_or(config.target_partitions)
                }
                _ => {}
            }
        }
        Ok(limits)
    }
}
