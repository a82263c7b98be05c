//! The session properties `SET SESSION` accepts, with their types, defaults and validation.

use std::time::Duration;

use vivace_common::ErrorCode;
use vivace_common::properties::{parse_data_size, parse_duration};

use crate::config::EngineConfig;
use crate::error::{EngineError, EngineResult};
use crate::session::Session;

/// One property's definition.
#[derive(Debug, Clone)]
pub(crate) struct SessionPropertyInfo {
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
const QUERY_MAX_PLANNING_TIME: &str = "query_max_planning_time";
const QUERY_MAX_MEMORY: &str = "query_max_memory";
const QUERY_MAX_MEMORY_PER_NODE: &str = "query_max_memory_per_node";
const TASK_CONCURRENCY: &str = "task_concurrency";
/// The session's time zone as `SET TIME ZONE` sets it; hidden from `SHOW SESSION`, as in
/// Trino, and preferred over the client's `X-Trino-Time-Zone`.
pub(crate) const TIME_ZONE_ID: &str = "time_zone_id";

/// All system session properties with their defaults from the server configuration.
pub(crate) fn system_properties(config: &EngineConfig) -> Vec<SessionPropertyInfo> {
    let duration = vivace_common::properties::format_duration;
    vec![
        SessionPropertyInfo {
            name: QUERY_MAX_EXECUTION_TIME,
            default: duration(config.query_max_execution_time),
            type_name: "varchar",
            description: "Maximum execution time of a query",
        },
        SessionPropertyInfo {
            name: QUERY_MAX_MEMORY,
            default: format!("{}B", config.query_max_memory),
            type_name: "varchar",
            description: "Maximum amount of memory a query can use across the cluster",
        },
        SessionPropertyInfo {
            name: QUERY_MAX_MEMORY_PER_NODE,
            default: format!("{}B", config.query_max_memory_per_node),
            type_name: "varchar",
            description: "Maximum amount of memory a query can use on one node",
        },
        SessionPropertyInfo {
            name: QUERY_MAX_PLANNING_TIME,
            default: duration(config.query_max_planning_time),
            type_name: "varchar",
            description: "Maximum planning time of a query",
        },
        SessionPropertyInfo {
            name: QUERY_MAX_RUN_TIME,
            default: duration(config.query_max_run_time),
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

/// Checks a `SET SESSION` value and returns it normalised. A limit may be lowered, never
/// raised above the server's configuration: a tenant cannot give itself more time, memory
/// or threads than the operator allows.
pub(crate) fn validate(config: &EngineConfig, name: &str, value: &str) -> EngineResult<String> {
    let invalid = |message: String| {
        EngineError::new(
            ErrorCode::INVALID_SESSION_PROPERTY,
            format!("Invalid value '{value}' for session property '{name}': {message}"),
        )
    };
    let above = |property: &str, limit: String| {
        EngineError::new(
            ErrorCode::INVALID_SESSION_PROPERTY,
            format!("{name} must not exceed '{property}' {limit}: {value}"),
        )
    };
    let duration = vivace_common::properties::format_duration;
    let size = vivace_common::properties::format_data_size;
    match name {
        QUERY_MAX_EXECUTION_TIME | QUERY_MAX_RUN_TIME | QUERY_MAX_PLANNING_TIME => {
            let requested = parse_duration(value).map_err(invalid)?;
            let (property, limit) = match name {
                QUERY_MAX_EXECUTION_TIME => {
                    ("query.max-execution-time", config.query_max_execution_time)
                }
                QUERY_MAX_RUN_TIME => ("query.max-run-time", config.query_max_run_time),
                _ => ("query.max-planning-time", config.query_max_planning_time),
            };
            if requested > limit {
                return Err(above(property, duration(limit)));
            }
        }
        QUERY_MAX_MEMORY | QUERY_MAX_MEMORY_PER_NODE => {
            let requested = parse_data_size(value).map_err(invalid)?;
            let (property, limit) = if name == QUERY_MAX_MEMORY {
                ("query.max-memory", config.query_max_memory)
            } else {
                (
                    "query.max-memory-per-node",
                    config.query_max_memory_per_node,
                )
            };
            if requested > limit {
                return Err(above(property, size(limit)));
            }
        }
        TASK_CONCURRENCY => match value.parse::<usize>() {
            Ok(n) if n > config.target_partitions => {
                return Err(above(
                    "task.concurrency",
                    config.target_partitions.to_string(),
                ));
            }
            Ok(n) if n > 0 => {}
            _ => return Err(invalid("expected a positive integer".into())),
        },
        TIME_ZONE_ID => {
            return validate_time_zone(value).map_err(|e| invalid(e.to_string()));
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
pub(crate) struct QueryLimits {
    /// Time allowed for execution.
    pub max_execution_time: Duration,
    /// Time allowed from creation to end.
    pub max_run_time: Duration,
    /// Time allowed for parsing and planning.
    pub max_planning_time: Duration,
    /// Memory allowed on this node, in bytes.
    pub max_memory_per_node: u64,
    /// Memory allowed on all nodes together, in bytes (`query.max-memory`).
    pub max_memory: u64,
    /// Partitions per stage.
    pub target_partitions: usize,
}

impl QueryLimits {
    /// Resolves the limits; session values may only lower the server's.
    pub(crate) fn resolve(config: &EngineConfig, session: &Session) -> EngineResult<Self> {
        let mut limits = QueryLimits {
            max_execution_time: config.query_max_execution_time,
            max_run_time: config.query_max_run_time,
            max_planning_time: config.query_max_planning_time,
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
            let value = validate(config, name, value)?;
            match name.as_str() {
                QUERY_MAX_EXECUTION_TIME => {
                    limits.max_execution_time = parse_duration(&value).unwrap_or_default()
                }
                QUERY_MAX_RUN_TIME => {
                    limits.max_run_time = parse_duration(&value).unwrap_or_default()
                }
                QUERY_MAX_PLANNING_TIME => {
                    limits.max_planning_time = parse_duration(&value).unwrap_or_default()
                }
                QUERY_MAX_MEMORY => {
                    let bytes = parse_data_size(&value).unwrap_or(u64::MAX);
                    limits.max_memory = limits.max_memory.min(bytes);
                    limits.max_memory_per_node = limits.max_memory_per_node.min(bytes);
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

/// Accepts an IANA zone name (in any case, returned as the zone database spells it) or an
/// offset such as `+05:30`, as Trino does.
pub(crate) fn validate_time_zone(zone: &str) -> EngineResult<String> {
    if let Some(named) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|named| named.name().eq_ignore_ascii_case(zone))
    {
        return Ok(named.name().to_string());
    }
    if let Ok(offset) = zone.parse::<chrono::FixedOffset>() {
        return Ok(offset.to_string());
    }
    Err(EngineError::new(
        ErrorCode::GENERIC_USER_ERROR,
        format!("Time zone not supported: {zone}"),
    ))
}
