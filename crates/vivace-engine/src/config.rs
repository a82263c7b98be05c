//! The engine's configuration: query limits and node identity, read from `config.properties`
//! and `node.properties`.

use std::time::Duration;

use vivace_common::properties::format_data_size;
use vivace_common::{PropertiesError, PropertyMap};

use crate::memory::LowMemoryKillerPolicy;

use vivace_sql::limits::{
    MAX_EXPRESSION_DEPTH, MAX_MAX_LENGTH, MAX_NESTING_DEPTH, MAX_SUBQUERY_DEPTH, SqlLimits,
};

/// Settings the engine needs, validated at startup.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `node.environment`.
    pub environment: String,
    /// `node.id`.
    pub node_id: String,
    /// `coordinator`.
    pub coordinator: bool,
    /// `query.max-memory`: memory a query may use in the whole cluster.
    pub query_max_memory: u64,
    /// `query.max-memory-per-node`: memory a query may use on one node.
    pub query_max_memory_per_node: u64,
    /// `memory.node-pool-size`: memory all queries of a node may reserve together (Trino
    /// derives it from the JVM heap less `memory.heap-headroom-per-node`).
    pub node_pool_size: u64,
    /// `query.low-memory-killer.policy`: what happens when the node pool runs out.
    pub low_memory_killer_policy: LowMemoryKillerPolicy,
    /// `query.max-execution-time`.
    pub query_max_execution_time: Duration,
    /// `query.max-run-time`.
    pub query_max_run_time: Duration,
    /// `query.max-planning-time`: time a query may spend being parsed and planned.
    pub query_max_planning_time: Duration,
    /// `query.max-length` and `query.max-expression-depth`.
    pub sql_limits: SqlLimits,
    /// `query.max-history`: finished queries kept for `system.runtime.queries`.
    pub query_max_history: usize,
    /// `task.concurrency`: partitions per stage.
    pub target_partitions: usize,
    /// The URI this node is reached at, for `system.runtime.nodes`.
    pub http_uri: String,
    /// `retry-policy`: whether a distributed query that lost a worker runs again.
    pub retry_policy: RetryPolicy,
    /// `query-retry-attempts`: how many times a query may run again.
    pub query_retry_attempts: u32,
    /// `exchange.deduplication-buffer-size`: result bytes held back from the client while a
    /// retryable query runs, so that a retry stays invisible. A query whose results outgrow
    /// it delivers them and can no longer be retried.
    pub retry_buffer_size: u64,
}

/// `retry-policy`, as in Trino (`TASK` is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicy {
    /// A failed query fails.
    None,
    /// A read-only distributed query that lost a worker is planned and run again on the
    /// remaining workers.
    Query,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let memory = physical_memory_bytes().unwrap_or(8 << 30);
        EngineConfig {
            environment: "vivace".to_string(),
            node_id: "vivace-node".to_string(),
            coordinator: true,
            query_max_memory: 20 << 30,
            query_max_memory_per_node: memory * 3 / 10,
            node_pool_size: memory * 7 / 10,
            low_memory_killer_policy: LowMemoryKillerPolicy::TotalReservationOnBlockedNodes,
            query_max_execution_time: Duration::from_secs(100 * 24 * 3600),
            query_max_run_time: Duration::from_secs(100 * 24 * 3600),
            query_max_planning_time: Duration::from_secs(600),
            sql_limits: SqlLimits::default(),
            query_max_history: 100,
            target_partitions: cores,
            http_uri: "http://localhost:8080".to_string(),
            retry_policy: RetryPolicy::Query,
            query_retry_attempts: 4,
            retry_buffer_size: 32 << 20,
        }
    }
}

impl EngineConfig {
    /// Takes the engine's keys from `config.properties`.
    pub fn take_server_properties(
        &mut self,
        props: &mut PropertyMap,
    ) -> Result<(), PropertiesError> {
        if let Some(v) = props.take_bool("coordinator")? {
            self.coordinator = v;
        }
        if let Some(v) = props.take_data_size("query.max-memory")? {
            self.query_max_memory = v;
        }
        let per_node = props.take_data_size("query.max-memory-per-node")?;
        if let Some(v) = per_node {
            self.query_max_memory_per_node = v;
        }
        if let Some(v) = props.take_data_size("memory.node-pool-size")? {
            self.node_pool_size = v;
        }
        if let Some(v) = props.take_with(
            "query.low-memory-killer.policy",
            LowMemoryKillerPolicy::parse,
        )? {
            self.low_memory_killer_policy = v;
        }
        if per_node.is_none() {
            // The default share never exceeds a smaller node pool set on its own.
            self.query_max_memory_per_node =
                self.query_max_memory_per_node.min(self.node_pool_size);
        }
        if self.query_max_memory_per_node > self.node_pool_size {
            return Err(PropertiesError::Invalid {
                location: "config.properties: property 'query.max-memory-per-node'".to_string(),
                message: format!(
                    "{} exceeds memory.node-pool-size ({}), the memory of all queries of the node \
                     together",
                    format_data_size(self.query_max_memory_per_node),
                    format_data_size(self.node_pool_size)
                ),
            });
        }
        if let Some(v) = props.take_duration("query.max-execution-time")? {
            self.query_max_execution_time = v;
        }
        if let Some(v) = props.take_duration("query.max-run-time")? {
            self.query_max_run_time = v;
        }
        if let Some(v) = props.take_duration("query.max-planning-time")? {
            self.query_max_planning_time = v;
        }
        if let Some(v) = props.take_with("query.max-length", |v| match v.parse::<usize>() {
            Ok(n) if n <= MAX_MAX_LENGTH => Ok(n),
            _ => Err(format!(
                "expected an integer from 0 to {MAX_MAX_LENGTH}, got '{v}'"
            )),
        })? {
            self.sql_limits.max_length = v;
        }
        let limits = [
            ("query.max-expression-depth", 10, MAX_EXPRESSION_DEPTH),
            ("query.max-nesting-depth", 10, MAX_NESTING_DEPTH),
            ("query.max-subquery-depth", 1, MAX_SUBQUERY_DEPTH),
        ];
        for (key, low, high) in limits {
            let value = props.take_with(key, |v| match v.parse::<usize>() {
                Ok(n) if (low..=high).contains(&n) => Ok(n),
                _ => Err(format!(
                    "expected an integer from {low} to {high}, got '{v}'"
                )),
            })?;
            let Some(value) = value else { continue };
            match key {
                "query.max-expression-depth" => self.sql_limits.max_expression_depth = value,
                "query.max-nesting-depth" => self.sql_limits.max_nesting_depth = value,
                _ => self.sql_limits.max_subquery_depth = value,
            }
        }
        if let Some(v) = props.take_with("query.max-history", positive)? {
            self.query_max_history = v;
        }
        if let Some(v) = props.take_with("task.concurrency", positive)? {
            self.target_partitions = v;
        }
        if let Some(v) =
            props.take_with("retry-policy", |v| match v.to_ascii_uppercase().as_str() {
                "NONE" => Ok(RetryPolicy::None),
                "QUERY" => Ok(RetryPolicy::Query),
                "TASK" => Err("TASK retries are not supported; use QUERY or NONE".to_string()),
                _ => Err(format!("expected NONE or QUERY, got '{v}'")),
            })?
        {
            self.retry_policy = v;
        }
        if let Some(v) = props.take_parsed("query-retry-attempts")? {
            self.query_retry_attempts = v;
        }
        if let Some(v) = props.take_data_size("exchange.deduplication-buffer-size")? {
            self.retry_buffer_size = v;
        }
        Ok(())
    }

    /// Takes the engine's keys from `node.properties`.
    pub fn take_node_properties(&mut self, props: &mut PropertyMap) -> Result<(), PropertiesError> {
        if let Some(v) = props.take_with("node.environment", valid_environment)? {
            self.environment = v;
        }
        if let Some(v) = props.take_string("node.id") {
            self.node_id = v;
        }
        Ok(())
    }
}

fn positive(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive integer, got '{value}'")),
    }
}

/// Trino requires lower-case letters, digits and underscores.
fn valid_environment(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "'{value}' must contain only lower-case letters, digits and underscores"
        ))
    }
}

/// Memory this process may use: the machine's (`/proc/meminfo`), or the container's limit
/// (cgroup v2 `memory.max`) when that is lower.
fn physical_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    let machine = kib.saturating_mul(1024);
    let container = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|limit| limit.trim().parse::<u64>().ok());
    Some(container.map_or(machine, |limit| limit.min(machine)))
}
