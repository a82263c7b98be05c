//! The table-scan hook sees every table a statement plans, whatever the statement's form, and
//! an error it returns fails the query: the contract access control (row filters, masks,
//! denials) will rely on.

#![allow(clippy::expect_used)]

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use parking_lot::Mutex;
use vivace_common::{ErrorCode, PropertyMap};
use vivace_connectors::tpch::TpchConnectorFactory;
use vivace_engine::{
    Engine, EngineConfig, EngineError, EngineResult, Identity, QueryHandle, QueryService,
    QueryState, ScanPolicy, Session,
};
use vivace_spi::ConnectorFactory;

/// Records the tables it is asked about and refuses `tpch.tiny.supplier`.
#[derive(Debug, Default)]
struct Recording {
    seen: Mutex<Vec<String>>,
}

impl ScanPolicy for Recording {
    fn resolve_scan(
        &self,
        query: &QueryHandle,
        name: &TableReference,
        table: Arc<dyn TableProvider>,
    ) -> EngineResult<Arc<dyn TableProvider>> {
        let seen = format!("{}:{name}", query.session().identity.user);
        self.seen.lock().push(seen);
        if name.table() == "supplier" {
            return Err(EngineError::new(
                ErrorCode::PERMISSION_DENIED,
                "Access Denied: Cannot select from table tpch.tiny.supplier",
            ));
        }
        Ok(table)
    }
}

fn engine(policy: Arc<Recording>) -> Engine {
    let mut properties = PropertyMap::new("test catalog tpch");
    let tpch = TpchConnectorFactory
        .create("tpch", &mut properties)
        .expect("tpch connector");
    let engine = Engine::new(
        EngineConfig::default(),
        vec![("tpch".to_string(), tpch)],
        tokio::runtime::Handle::current(),
    );
    engine.set_scan_policy(policy);
    engine
}

/// Runs `sql` as alice to its end; its final state and error code.
async fn run(engine: &Engine, sql: &str) -> (QueryState, Option<ErrorCode>) {
    let session = Session {
        identity: Identity {
            user: "alice".to_string(),
            groups: vec![],
            authenticated_by: None,
        },
        ..Session::default()
    };
    let handle = engine.submit(session, sql.to_string());
    let mut events = handle.events().lock().await;
    while events.recv().await.is_some() {}
    drop(events);
    let status = handle.status();
    (status.state, status.failure.map(|f| f.code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_of_statement_plans_its_scans_through_the_policy() {
    let policy = Arc::new(Recording::default());
    let engine = engine(Arc::clone(&policy));
    for sql in [
        "SELECT count(*) FROM tpch.tiny.nation",
        "SELECT * FROM tpch.tiny.region WHERE regionkey IN (SELECT regionkey FROM tpch.tiny.nation)",
        "EXPLAIN SELECT * FROM tpch.tiny.nation",
        "EXPLAIN ANALYZE SELECT count(*) FROM tpch.tiny.nation",
        "EXPLAIN (TYPE LOGICAL) SELECT * FROM tpch.tiny.nation",
        "EXPLAIN (TYPE VALIDATE) SELECT * FROM tpch.tiny.nation",
        "DESCRIBE OUTPUT q",
    ] {
        policy.seen.lock().clear();
        let (state, code) = run(&engine, sql).await;
        if sql.starts_with("DESCRIBE") {
            // Not prepared: refused before anything is planned.
            assert_eq!(state, QueryState::Failed, "{sql}");
            continue;
        }
        assert_eq!((state, code), (QueryState::Finished, None), "{sql}");
        let seen = policy.seen.lock().clone();
        assert!(
            seen.iter().any(|s| s == "alice:tpch.tiny.nation"),
            "{sql} planned {seen:?}"
        );
    }
    for sql in [
        "SELECT * FROM tpch.tiny.supplier",
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM tpch.tiny.supplier)",
        "EXPLAIN SELECT * FROM tpch.tiny.supplier",
        "EXPLAIN ANALYZE SELECT * FROM tpch.tiny.supplier",
        "EXPLAIN (TYPE IO, FORMAT JSON) SELECT * FROM tpch.tiny.supplier",
        "SHOW STATS FOR tpch.tiny.supplier",
    ] {
        let (state, code) = run(&engine, sql).await;
        assert_eq!(
            (state, code),
            (QueryState::Failed, Some(ErrorCode::PERMISSION_DENIED)),
            "{sql}"
        );
    }
}
