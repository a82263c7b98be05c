//! DataFusion wiring: the shared base session state, and a fresh context per query with the
//! session's defaults, its time zone, its parallelism and its memory pool on this node.

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::catalog::{CatalogList, CatalogManager};
use crate::error::EngineResult;
use crate::session::Session;
use crate::session_properties::QueryLimits;
use vivace_functions::setup::{apply_trino_options, register_trino_functions, runtime_with_pool};

/// Placeholder defaults when the session names no catalog or schema; no catalog has these
/// names, and references are checked before DataFusion sees them.
pub(crate) const NO_CATALOG: &str = "$no_catalog";
/// See [`NO_CATALOG`].
pub(crate) const NO_SCHEMA: &str = "$no_schema";

/// Facts about the running query that table providers may read through the session config.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryContext {
    /// The session user.
    pub(crate) user: String,
}

/// Builds per-query DataFusion contexts from one shared base state.
#[derive(Debug)]
pub(crate) struct ContextFactory {
    base: SessionState,
}

impl ContextFactory {
    /// A factory planning against `catalogs`.
    pub(crate) fn new(catalogs: Arc<CatalogManager>) -> Self {
        let config = base_config();
        let base = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_catalog_list(Arc::new(CatalogList::new(catalogs)))
            .build();
        let mut base = crate::planning::with_cancellable_rules(base);
        register_trino_functions(&mut base);
        ContextFactory { base }
    }

    pub(crate) fn base_ref(&self) -> &SessionState {
        &self.base
    }

    /// A context for one query whose memory is reserved from `pool`.
    pub(crate) fn create(
        &self,
        session: &Session,
        limits: &QueryLimits,
        query: QueryContext,
        scans: Arc<vivace_spi::ScanCounters>,
        pool: Arc<dyn MemoryPool>,
    ) -> EngineResult<SessionContext> {
        let mut config = self.base.config().clone();
        let options = config.options_mut();
        options.catalog.default_catalog = session.catalog.clone().unwrap_or(NO_CATALOG.into());
        options.catalog.default_schema = session.schema.clone().unwrap_or(NO_SCHEMA.into());
        options.execution.target_partitions = limits.target_partitions.max(1);
        let zone = session
            .properties
            .get(crate::session_properties::TIME_ZONE_ID)
            .or(session.time_zone.as_ref())
            .map(|zone| crate::session_properties::validate_time_zone(zone.as_str()))
            .transpose()?;
        apply_trino_options(options, zone);
        let config = config.with_extension(Arc::new(query)).with_extension(scans);

        let runtime = runtime_with_pool(self.base.runtime_env(), pool);
        let mut state = SessionStateBuilder::new_from_existing(self.base.clone())
            .with_config(config)
            .with_runtime_env(runtime)
            .build();
        // Ours go in last (see `register_trino_functions`).
        register_trino_functions(&mut state);
        Ok(SessionContext::new_with_state(state))
    }
}

fn base_config() -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(false)
        .with_create_default_catalog_and_schema(false);
    apply_trino_options(config.options_mut(), None);
    config
}
