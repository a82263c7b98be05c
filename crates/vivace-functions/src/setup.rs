//! The one DataFusion setup every Vivace session gets, on the coordinator (per query, in the
//! engine's `context.rs`) and on a worker (per task, in `vivace-cluster`): Trino's reading of SQL
//! literals, the session's time zone, Trino's functions over DataFusion's, and a runtime whose
//! memory comes from the query's pool. Both sides call these functions, so they cannot drift.

use std::sync::{Arc, LazyLock};

use datafusion::config::ConfigOptions;
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::SessionState;
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::ScalarUDF;

/// Vivace's scalar functions, built once.
static TRINO_FUNCTIONS: LazyLock<Vec<Arc<ScalarUDF>>> = LazyLock::new(|| {
    let mut functions = vec![crate::cast::trino_cast_udf()];
    functions.extend(crate::functions::trino_functions());
    functions
});

/// Sets the options that make DataFusion read and compute as Trino: decimal literals, and
/// `time_zone` (already validated) when the session has one.
pub fn apply_trino_options(options: &mut ConfigOptions, time_zone: Option<String>) {
    options.sql_parser.enable_ident_normalization = true;
    // Trino reads `1.5` as decimal(2, 1), not double.
    options.sql_parser.parse_float_as_decimal = true;
    if let Some(zone) = time_zone {
        options.execution.time_zone = Some(zone);
    }
}

/// Registers Vivace's functions over DataFusion's of the same name or alias, each configured
/// for `state`'s options (its time zone). Call it after the state is built: building
/// re-registers every function in no set order, so a DataFusion alias (`element_at`,
/// `date_format`) could otherwise take a Trino name back.
pub fn register_trino_functions(state: &mut SessionState) {
    let options = Arc::clone(state.config().options());
    for function in TRINO_FUNCTIONS.iter() {
        let function = function
            .inner()
            .with_updated_config(&options)
            .map_or_else(|| Arc::clone(function), Arc::new);
        // Replacing DataFusion's function is the point (`version`, `date_format`, ...).
        let _replaced = state.register_udf(function);
    }
    for function in crate::functions::trino_lambda_functions() {
        let _replaced = state.register_higher_order_function(function);
    }
}

/// A runtime that takes its memory from `pool` and shares everything else with `base`.
pub fn runtime_with_pool(base: &RuntimeEnv, pool: Arc<dyn MemoryPool>) -> Arc<RuntimeEnv> {
    Arc::new(RuntimeEnv {
        memory_pool: pool,
        disk_manager: Arc::clone(&base.disk_manager),
        cache_manager: Arc::clone(&base.cache_manager),
        object_store_registry: Arc::clone(&base.object_store_registry),
    })
}
