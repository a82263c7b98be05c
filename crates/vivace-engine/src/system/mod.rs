//! The `system` catalog: `runtime` (nodes, queries), `metadata` (catalogs, table comments,
//! materialized views) and `jdbc` (what the JDBC driver reads), built from the engine's live
//! state whenever they are scanned.

mod jdbc;
mod table_comments;

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMillisecondBuilder, new_empty_array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::{Result as DfResult, not_impl_err};

use crate::catalog::CatalogManager;
use crate::context::QueryContext;
use crate::metadata_filter::{NameFilter, NamePart};
use crate::metadata_table::{MetadataRows, MetadataTable};
use crate::tracker::QueryTracker;

/// What `system.runtime.nodes` reports about this node.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// `node.id`.
    pub node_id: String,
    /// Where clients and nodes reach it.
    pub http_uri: String,
    /// The version it reports.
    pub version: String,
    /// Whether it is a coordinator.
    pub coordinator: bool,
    /// `node.environment`.
    pub environment: String,
}

/// A node of the cluster other than this one, as the coordinator's directory sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteNode {
    /// `node.id`.
    pub node_id: String,
    /// Where nodes reach it.
    pub http_uri: String,
    /// The version it announced.
    pub version: String,
    /// Whether it is a coordinator.
    pub coordinator: bool,
    /// `ACTIVE`, `DRAINING`, `SHUTTING_DOWN` or `INACTIVE`.
    pub state: String,
}

/// The other nodes of the cluster, for `system.runtime.nodes` and `/v1/node`.
pub trait NodeDirectory: Send + Sync + std::fmt::Debug {
    /// Every known node except this one.
    fn remote_nodes(&self) -> Vec<RemoteNode>;
}

/// Where the engine finds the cluster's directory once the cluster layer sets it.
pub(crate) type DirectorySlot = Arc<parking_lot::RwLock<Option<Arc<dyn NodeDirectory>>>>;

type Builder = dyn Fn(&QueryContext) -> DfResult<RecordBatch> + Send + Sync;

/// A table whose rows are computed when it is scanned.
struct SnapshotTable {
    schema: SchemaRef,
    build: Arc<Builder>,
}

impl std::fmt::Debug for SnapshotTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotTable")
            .field("schema", &self.schema)
            .finish()
    }
}

#[async_trait]
impl MetadataRows for SnapshotTable {
    const TAKES_FILTERS: bool = false;

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn name_part(_column: &str) -> Option<NamePart> {
        None
    }

    async fn rows(&self, state: &dyn Session, _names: &NameFilter) -> DfResult<RecordBatch> {
        let context = state
            .config()
            .get_extension::<QueryContext>()
            .map(|c| (*c).clone())
            .unwrap_or_default();
        (self.build)(&context)
    }
}

/// The `system` catalog.
#[derive(Debug)]
pub(crate) struct SystemCatalog {
    schemas: HashMap<&'static str, Arc<SystemSchema>>,
}

#[derive(Debug)]
struct SystemSchema {
    tables: HashMap<&'static str, Arc<dyn TableProvider>>,
}

#[async_trait]
impl SchemaProvider for SystemSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tables.keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        Ok(self.tables.get(name).map(Arc::clone))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }

    fn register_table(
        &self,
        name: String,
        _table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        not_impl_err!("The system catalog is read-only (table '{name}')")
    }
}

impl CatalogProvider for SystemCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.schemas.keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.schemas
            .get(name)
            .map(|s| Arc::clone(s) as Arc<dyn SchemaProvider>)
    }

    fn register_schema(
        &self,
        name: &str,
        _schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        not_impl_err!("The system catalog is read-only (schema '{name}')")
    }
}

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn timestamp(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Millisecond, Some(Arc::from("UTC"))),
        true,
    )
}

fn table(fields: Vec<Field>, build: Arc<Builder>) -> Arc<dyn TableProvider> {
    MetadataTable::provider(SnapshotTable {
        schema: Arc::new(Schema::new(fields)),
        build,
    })
}

fn strings(builders: Vec<StringBuilder>) -> Vec<ArrayRef> {
    builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect()
}

impl SystemCatalog {
    /// The catalog over the engine's catalogs, queries and node.
    pub(crate) fn new(
        catalogs: Weak<CatalogManager>,
        queries: Arc<QueryTracker>,
        node: NodeInfo,
        directory: DirectorySlot,
    ) -> Self {
        let nodes = {
            let node = node.clone();
            table(
                vec![
                    text("node_id"),
                    text("http_uri"),
                    text("node_version"),
                    Field::new("coordinator", DataType::Boolean, true),
                    text("state"),
                ],
                Arc::new(move |_| {
                    let mut coordinator = BooleanBuilder::new();
                    coordinator.append_value(node.coordinator);
                    let schema = Arc::new(Schema::new(vec![
                        text("node_id"),
                        text("http_uri"),
                        text("node_version"),
                        Field::new("coordinator", DataType::Boolean, true),
                        text("state"),
                    ]));
                    let mut t: Vec<StringBuilder> = (0..4).map(|_| StringBuilder::new()).collect();
                    t[0].append_value(&node.node_id);
                    t[1].append_value(&node.http_uri);
                    t[2].append_value(&node.version);
                    t[3].append_value("active");
                    let remote = directory
                        .read()
                        .as_ref()
                        .map(|d| d.remote_nodes())
                        .unwrap_or_default();
                    for other in remote {
                        t[0].append_value(&other.node_id);
                        t[1].append_value(&other.http_uri);
                        t[2].append_value(&other.version);
                        t[3].append_value(other.state.to_ascii_lowercase());
                        coordinator.append_value(other.coordinator);
                    }
                    let mut columns = strings(t);
                    columns.insert(3, Arc::new(coordinator.finish()));
                    Ok(RecordBatch::try_new(schema, columns)?)
                }),
            )
        };

        let query_fields = || {
            vec![
                text("query_id"),
                text("state"),
                text("user"),
                text("source"),
                text("query"),
                Field::new("queued_time_ms", DataType::Int64, true),
                Field::new("analysis_time_ms", DataType::Int64, true),
                Field::new("planning_time_ms", DataType::Int64, true),
                timestamp("created"),
                timestamp("started"),
                timestamp("last_heartbeat"),
                timestamp("end"),
                text("error_type"),
                text("error_code"),
                Field::new(
                    "groups",
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                    true,
                ),
                text("authentication_method"),
            ]
        };
        let queries_table = {
            let queries = Arc::clone(&queries);
            table(
                query_fields(),
                Arc::new(move |context| {
                    let mut t: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
                    let mut groups = ListBuilder::new(StringBuilder::new());
                    let mut methods = StringBuilder::new();
                    let mut times: Vec<Int64Builder> =
                        (0..3).map(|_| Int64Builder::new()).collect();
                    let mut stamps: Vec<TimestampMillisecondBuilder> = (0..4)
                        .map(|_| TimestampMillisecondBuilder::new().with_timezone("UTC"))
                        .collect();
                    for query in queries.list() {
                        // Until access control lands, each user sees only their own queries.
                        if query.session().identity.user != context.user {
                            continue;
                        }
                        let status = query.status();
                        let identity = &query.session().identity;
                        for group in &identity.groups {
                            groups.values().append_value(group);
                        }
                        groups.append(true);
                        methods.append_option(identity.authenticated_by.as_deref());
                        t[0].append_value(query.id().as_str());
                        t[1].append_value(status.state.as_str());
                        t[2].append_value(&query.session().identity.user);
                        t[3].append_option(query.session().source.as_deref());
                        t[4].append_value(query.sql());
                        let queued = query.queued_time().as_millis() as i64;
                        times[0].append_value(queued);
                        times[1].append_value(0);
                        times[2].append_value(0);
                        let created = query.created_at().timestamp_millis();
                        stamps[0].append_value(created);
                        stamps[1].append_value(created + queued);
                        stamps[2].append_value(chrono::Utc::now().timestamp_millis());
                        stamps[3].append_option(status.ended_at.map(|e| e.timestamp_millis()));
                        match &status.failure {
                            Some(f) => {
                                t[5].append_value(f.code.kind.as_str());
                                t[6].append_value(f.code.name);
                            }
                            None => {
                                t[5].append_null();
                                t[6].append_null();
                            }
                        }
                    }
                    let mut text_columns = strings(t).into_iter();
                    let mut columns: Vec<ArrayRef> = text_columns.by_ref().take(5).collect();
                    columns.extend(
                        times
                            .into_iter()
                            .map(|mut b| Arc::new(b.finish()) as ArrayRef),
                    );
                    columns.extend(
                        stamps
                            .into_iter()
                            .map(|mut b| Arc::new(b.finish()) as ArrayRef),
                    );
                    columns.extend(text_columns);
                    columns.push(Arc::new(groups.finish()));
                    columns.push(Arc::new(methods.finish()));
                    Ok(RecordBatch::try_new(
                        Arc::new(Schema::new(query_fields())),
                        columns,
                    )?)
                }),
            )
        };

        let catalog_fields = || {
            vec![
                text("catalog_name"),
                text("connector_id"),
                text("connector_name"),
            ]
        };
        let catalogs_table = {
            let catalogs = Weak::clone(&catalogs);
            table(
                catalog_fields(),
                Arc::new(move |_| {
                    let mut t: Vec<StringBuilder> = (0..3).map(|_| StringBuilder::new()).collect();
                    if let Some(manager) = catalogs.upgrade() {
                        for catalog in manager.list() {
                            t[0].append_value(&catalog.name);
                            t[1].append_value(&catalog.name);
                            t[2].append_value(&catalog.connector_name);
                        }
                    }
                    Ok(RecordBatch::try_new(
                        Arc::new(Schema::new(catalog_fields())),
                        strings(t),
                    )?)
                }),
            )
        };

        let view_fields = || {
            vec![
                text("catalog_name"),
                text("schema_name"),
                text("name"),
                text("storage_catalog"),
                text("storage_schema"),
                text("storage_table"),
                text("freshness"),
                Field::new(
                    "last_fresh_time",
                    DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::from("UTC"))),
                    true,
                ),
                text("comment"),
                text("definition"),
            ]
        };
        // No connector supports materialized views.
        let materialized_views = table(
            view_fields(),
            Arc::new(move |_| {
                let schema = Arc::new(Schema::new(view_fields()));
                let columns = schema
                    .fields()
                    .iter()
                    .map(|f| new_empty_array(f.data_type()))
                    .collect();
                Ok(RecordBatch::try_new(schema, columns)?)
            }),
        );

        let runtime = SystemSchema {
            tables: HashMap::from([("nodes", nodes), ("queries", queries_table)]),
        };
        let metadata = SystemSchema {
            tables: HashMap::from([
                ("catalogs", catalogs_table),
                (
                    "table_comments",
                    MetadataTable::provider(table_comments::TableComments::new(Weak::clone(
                        &catalogs,
                    ))),
                ),
                ("materialized_views", materialized_views),
            ]),
        };
        let jdbc = SystemSchema {
            tables: jdbc::JdbcTable::ALL
                .into_iter()
                .map(|kind| {
                    let table = jdbc::JdbcSystemTable::new(kind, Weak::clone(&catalogs));
                    (kind.name(), MetadataTable::provider(table))
                })
                .collect(),
        };
        SystemCatalog {
            schemas: HashMap::from([
                ("runtime", Arc::new(runtime)),
                ("metadata", Arc::new(metadata)),
                ("jdbc", Arc::new(jdbc)),
            ]),
        }
    }
}
