//! Runs the DDL of [`vivace_sql::statement::ddl`] against the catalogs' schema providers.
//!
//! Tables change definition (`ALTER TABLE`, `COMMENT ON`) only where a connector holds them as
//! DataFusion [`MemTable`]s (the memory connector): the table is rebuilt with the new schema and
//! registered in the old one's place. Other connectors get Trino's "This connector does not
//! support ..." error. Comments live in Arrow metadata under [`COMMENT_METADATA_KEY`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{ArrayRef, new_null_array};
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::datasource::{TableType, ViewTable};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use serde_json::Value;
use vivace_common::ErrorCode;
use vivace_connectors::memory::{self, MemoryTable};
use vivace_protocol::TrinoType;
use vivace_protocol::types::format_identifier as format_ident;
use vivace_spi::{COMMENT_METADATA_KEY, column_comment, table_comment};

use vivace_sql::quote::quote_literal;

use super::query::update_type_of;
use super::{Completion, Execution};
use crate::error::{EngineError, EngineResult};
use crate::session::SessionUpdate;
use vivace_functions::types::{column_field, trino_type_of_field};
use vivace_sql::hidden_columns;
use vivace_sql::statement::ddl::{
    Alter, AlterAction, ColumnDefinition, Comment, CommentTarget, CreateTable, CreateTableAs,
    CreateView, RelationKind, ShowCreateKind, TableElement,
};

/// The zone of `timestamp with time zone` columns created by DDL; values keep their instant.
const STORED_ZONE: &str = "UTC";

/// A table or view that exists.
struct Relation {
    catalog: String,
    schema: String,
    name: String,
    schemas: Arc<dyn SchemaProvider>,
    table: Arc<dyn TableProvider>,
}

impl Relation {
    fn qualified(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.name)
    }

    fn kind(&self) -> RelationKind {
        if self.table.table_type() == TableType::View {
            RelationKind::View
        } else {
            RelationKind::Table
        }
    }

    /// The memory table behind a table whose definition is to change, or Trino's error for
    /// connectors that cannot change it (`what`: "adding columns", ...).
    fn memory_table(&self, what: &str) -> EngineResult<&MemTable> {
        self.table
            .downcast_ref::<MemoryTable>()
            .map(MemoryTable::table)
            .ok_or_else(|| connector_cannot(what))
    }

    /// Registers `table` under this relation's name instead of the current one; if the
    /// connector refuses it (its data limit), the current one stays.
    fn replace(&self, table: MemTable) -> EngineResult<()> {
        self.schemas.deregister_table(&self.name)?;
        if let Err(refused) = self
            .schemas
            .register_table(self.name.clone(), Arc::new(table))
        {
            self.schemas
                .register_table(self.name.clone(), Arc::clone(&self.table))?;
            return Err(refused.into());
        }
        Ok(())
    }

    /// Rebuilds the memory table with `schema`, each batch's columns made by `columns`.
    async fn rebuild(
        &self,
        what: &str,
        schema: Schema,
        columns: impl Fn(&arrow::array::RecordBatch) -> Vec<ArrayRef>,
    ) -> EngineResult<()> {
        let table = self.memory_table(what)?;
        let rebuilt = memory::rebuild(table, Arc::new(schema), columns).await?;
        self.replace(rebuilt)
    }
}

fn connector_cannot(what: &str) -> EngineError {
    EngineError::new(
        ErrorCode::NOT_SUPPORTED,
        format!("This connector does not support {what}"),
    )
}

/// A field with its comment set (`Some`) or removed (`None`).
fn with_comment(field: &Field, comment: Option<&str>) -> Field {
    let mut metadata = field.metadata().clone();
    match comment {
        Some(text) => metadata.insert(COMMENT_METADATA_KEY.to_string(), text.to_string()),
        None => metadata.remove(COMMENT_METADATA_KEY),
    };
    field.clone().with_metadata(metadata)
}

/// The Arrow field of a column definition.
fn definition_field(column: &ColumnDefinition) -> EngineResult<Field> {
    if column.data_type == TrinoType::Unknown {
        return Err(EngineError::new(
            ErrorCode::NOT_SUPPORTED,
            format!("Unknown type 'unknown' for column '{}'", column.name),
        ));
    }
    let field =
        column_field(&column.name, &column.data_type, STORED_ZONE).with_nullable(!column.not_null);
    Ok(with_comment(&field, column.comment.as_deref()))
}

fn column_index(schema: &SchemaRef, name: &str) -> Option<usize> {
    schema.fields().iter().position(|f| f.name() == name)
}

fn column_not_found(name: &str) -> EngineError {
    EngineError::new(
        ErrorCode::COLUMN_NOT_FOUND,
        format!("Column '{name}' does not exist"),
    )
}

impl Execution {
    /// DDL changes catalogs at once, so it is refused inside a transaction, as Trino's
    /// connectors without transactional DDL do.
    fn check_autocommit(&self) -> EngineResult<()> {
        if self.session().in_transaction() {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "Catalog only supports writes using autocommit",
            ));
        }
        Ok(())
    }

    fn schema_provider(
        &self,
        catalog: &str,
        schema: &str,
    ) -> EngineResult<Arc<dyn SchemaProvider>> {
        self.engine
            .catalogs
            .get(catalog)
            .and_then(|c| c.provider.schema(schema))
            .ok_or_else(|| {
                EngineError::new(
                    ErrorCode::SCHEMA_NOT_FOUND,
                    format!("Schema '{schema}' does not exist"),
                )
            })
    }

    /// The table or view `parts` names, `None` when it does not exist.
    async fn find_relation(&self, parts: &[String]) -> EngineResult<Option<Relation>> {
        let (catalog, schema, name) = self.qualify(parts)?;
        let schemas = self.schema_provider(&catalog, &schema)?;
        let Some(table) = schemas.table(&name).await? else {
            return Ok(None);
        };
        Ok(Some(Relation {
            catalog,
            schema,
            name,
            schemas,
            table,
        }))
    }

    /// The relation `parts` names, which must be a `kind`.
    async fn require_relation(
        &self,
        parts: &[String],
        kind: RelationKind,
    ) -> EngineResult<Relation> {
        let found = self.find_relation(parts).await?;
        self.expect_kind(found, parts, kind)
    }

    /// `found`, the lookup of `parts`, when it is a `kind`; Trino's error otherwise.
    fn expect_kind(
        &self,
        found: Option<Relation>,
        parts: &[String],
        kind: RelationKind,
    ) -> EngineResult<Relation> {
        match found {
            Some(relation) if relation.kind() == kind => Ok(relation),
            Some(relation) => Err(EngineError::new(
                ErrorCode::TABLE_NOT_FOUND,
                format!(
                    "{} '{}' does not exist, but a {} with that name exists",
                    kind.noun(),
                    relation.qualified(),
                    relation.kind().noun().to_lowercase()
                ),
            )),
            None => {
                let (catalog, schema, name) = self.qualify(parts)?;
                Err(EngineError::new(
                    ErrorCode::TABLE_NOT_FOUND,
                    format!("{} '{catalog}.{schema}.{name}' does not exist", kind.noun()),
                ))
            }
        }
    }

    /// `CREATE TABLE name (columns)`: an empty table with Trino-typed columns and comments.
    pub(super) async fn create_table(&self, create: CreateTable) -> EngineResult<Completion> {
        self.check_autocommit()?;
        let (catalog, schema, name) = self.qualify(&create.name)?;
        let schemas = self.schema_provider(&catalog, &schema)?;
        if schemas.table_exist(&name) {
            if create.if_not_exists {
                return self.update("CREATE TABLE", SessionUpdate::default()).await;
            }
            return Err(EngineError::new(
                ErrorCode::TABLE_ALREADY_EXISTS,
                format!("Table '{catalog}.{schema}.{name}' already exists"),
            ));
        }
        if let Some(property) = create.properties.first() {
            return Err(EngineError::new(
                ErrorCode::INVALID_TABLE_PROPERTY,
                format!("Catalog '{catalog}' table property '{property}' does not exist"),
            ));
        }
        let mut fields: Vec<Field> = Vec::new();
        for element in &create.elements {
            match element {
                TableElement::Column(column) => fields.push(definition_field(column)?),
                TableElement::Like(other) => {
                    let source = self.require_relation(other, RelationKind::Table).await?;
                    let hidden = hidden_columns(&source.schema, &source.name);
                    fields.extend(
                        source
                            .table
                            .schema()
                            .fields()
                            .iter()
                            .filter(|f| !hidden.contains(&f.name().as_str()))
                            .map(|f| f.as_ref().clone()),
                    );
                }
            }
        }
        for (i, field) in fields.iter().enumerate() {
            if fields[..i].iter().any(|f| f.name() == field.name()) {
                return Err(EngineError::new(
                    ErrorCode::DUPLICATE_COLUMN_NAME,
                    format!("Column name '{}' specified more than once", field.name()),
                ));
            }
        }
        let mut metadata = HashMap::new();
        if let Some(comment) = &create.comment {
            metadata.insert(COMMENT_METADATA_KEY.to_string(), comment.clone());
        }
        let table_schema = Arc::new(Schema::new_with_metadata(fields, metadata));
        let table = MemTable::try_new(table_schema, vec![vec![]])?;
        schemas
            .register_table(name, Arc::new(table))
            .map_err(|_| connector_cannot("creating tables"))?;
        self.update("CREATE TABLE", SessionUpdate::default()).await
    }

    /// `CREATE [OR REPLACE] VIEW`: plans the query now and keeps its text as written.
    pub(super) async fn create_view(&self, view: CreateView) -> EngineResult<Completion> {
        self.check_autocommit()?;
        if view.comment.is_some() {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "Comments on views are not supported",
            ));
        }
        let (catalog, schema, name) = self.qualify(&view.name)?;
        let schemas = self.schema_provider(&catalog, &schema)?;
        let qualified = format!("{catalog}.{schema}.{name}");
        if let Some(existing) = schemas.table(&name).await? {
            if existing.table_type() != TableType::View {
                return Err(EngineError::new(
                    ErrorCode::TABLE_ALREADY_EXISTS,
                    format!("Table '{qualified}' already exists"),
                ));
            }
            if !view.or_replace {
                return Err(EngineError::new(
                    ErrorCode::TABLE_ALREADY_EXISTS,
                    format!("View '{qualified}' already exists"),
                ));
            }
        }
        let parsed = self.parse_sql(&view.query)?;
        if !matches!(&parsed.statement, DfStatement::Statement(s) if matches!(s.as_ref(), SqlStatement::Query(_)))
        {
            return Err(EngineError::new(
                ErrorCode::SYNTAX_ERROR,
                "CREATE VIEW needs a query after AS",
            ));
        }
        self.check_names(&parsed, &view.query)?;
        let ctx = self.context()?;
        let plan = self.plan_statement(&ctx.state(), parsed.statement).await?;
        if update_type_of(&plan)?.is_some() {
            return Err(EngineError::new(
                ErrorCode::SYNTAX_ERROR,
                "CREATE VIEW needs a query after AS",
            ));
        }
        let table = ViewTable::new(plan, Some(view.query.clone()));
        if view.or_replace {
            schemas.deregister_table(&name)?;
        }
        schemas
            .register_table(name, Arc::new(table))
            .map_err(|_| connector_cannot("creating views"))?;
        self.update("CREATE VIEW", SessionUpdate::default()).await
    }

    /// `COMMENT ON TABLE|VIEW|COLUMN`.
    pub(super) async fn comment(&self, comment: Comment) -> EngineResult<Completion> {
        self.check_autocommit()?;
        let text = comment.comment.as_deref();
        match &comment.target {
            CommentTarget::Relation(RelationKind::View, _) => {
                return Err(EngineError::new(
                    ErrorCode::NOT_SUPPORTED,
                    "Comments on views are not supported",
                ));
            }
            CommentTarget::Relation(RelationKind::Table, parts) => {
                self.set_table_comment(parts, text).await?;
            }
            CommentTarget::Column(parts, column) => {
                let relation = self.require_relation(parts, RelationKind::Table).await?;
                let old = relation.table.schema();
                let index = column_index(&old, column).ok_or_else(|| column_not_found(column))?;
                let fields: Vec<Field> = old
                    .fields()
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        if i == index {
                            with_comment(f, text)
                        } else {
                            f.as_ref().clone()
                        }
                    })
                    .collect();
                let schema = Schema::new_with_metadata(fields, old.metadata().clone());
                relation
                    .rebuild("setting column comments", schema, |b| b.columns().to_vec())
                    .await?;
            }
        }
        self.update("COMMENT", SessionUpdate::default()).await
    }

    async fn set_table_comment(&self, parts: &[String], text: Option<&str>) -> EngineResult<()> {
        let relation = self.require_relation(parts, RelationKind::Table).await?;
        let old = relation.table.schema();
        let mut metadata = old.metadata().clone();
        match text {
            Some(text) => metadata.insert(COMMENT_METADATA_KEY.to_string(), text.into()),
            None => metadata.remove(COMMENT_METADATA_KEY),
        };
        let schema = Schema::new_with_metadata(old.fields().clone(), metadata);
        relation
            .rebuild("setting table comments", schema, |b| b.columns().to_vec())
            .await
    }

    /// `CREATE TABLE ... AS` with a comment, properties or `WITH [NO] DATA`: DataFusion runs
    /// the statement without them, then the comment is set on the new table.
    pub(super) async fn create_table_as(&self, create: CreateTableAs) -> EngineResult<Completion> {
        let (catalog, schema, name) = self.qualify(&create.name)?;
        if let Some(property) = create.properties.first() {
            return Err(EngineError::new(
                ErrorCode::INVALID_TABLE_PROPERTY,
                format!("Catalog '{catalog}' table property '{property}' does not exist"),
            ));
        }
        let existed = self.table_exists(&catalog, &schema, &name);
        let completion = self.sql(&create.sql, true).await?;
        // `IF NOT EXISTS` over an existing table leaves it as it was.
        if (!existed || create.or_replace) && create.comment.is_some() {
            self.set_table_comment(&create.name, create.comment.as_deref())
                .await?;
        }
        Ok(completion)
    }

    /// `ALTER TABLE|VIEW`.
    pub(super) async fn alter(&self, alter: Alter) -> EngineResult<Completion> {
        self.check_autocommit()?;
        let found = self.find_relation(&alter.name).await?;
        if found.is_none() && alter.if_exists {
            return self
                .update(alter_update_type(&alter), SessionUpdate::default())
                .await;
        }
        let relation = self.expect_kind(found, &alter.name, alter.kind)?;
        let old = relation.table.schema();
        match &alter.action {
            AlterAction::RenameTo(target) => self.rename(&relation, alter.kind, target)?,
            AlterAction::AddColumn {
                column,
                if_not_exists,
            } => {
                if column_index(&old, &column.name).is_some() {
                    if *if_not_exists {
                        return self.update("ADD COLUMN", SessionUpdate::default()).await;
                    }
                    return Err(EngineError::new(
                        ErrorCode::COLUMN_ALREADY_EXISTS,
                        format!("Column '{}' already exists", column.name),
                    ));
                }
                let table = relation.memory_table("adding columns")?;
                if column.not_null && memory::row_count(table).await > 0 {
                    return Err(EngineError::new(
                        ErrorCode::NOT_SUPPORTED,
                        format!(
                            "Unable to add NOT NULL column '{}' for non-empty table",
                            column.name
                        ),
                    ));
                }
                let field = definition_field(column)?;
                let data_type = field.data_type().clone();
                let mut fields: Vec<Field> =
                    old.fields().iter().map(|f| f.as_ref().clone()).collect();
                fields.push(field);
                let schema = Schema::new_with_metadata(fields, old.metadata().clone());
                relation
                    .rebuild("adding columns", schema, |b| {
                        let mut columns = b.columns().to_vec();
                        columns.push(new_null_array(&data_type, b.num_rows()));
                        columns
                    })
                    .await?;
            }
            AlterAction::DropColumn { name, if_exists } => {
                let Some(index) = column_index(&old, name) else {
                    if *if_exists {
                        return self.update("DROP COLUMN", SessionUpdate::default()).await;
                    }
                    return Err(column_not_found(name));
                };
                if old.fields().len() == 1 {
                    return Err(EngineError::new(
                        ErrorCode::NOT_SUPPORTED,
                        "Cannot drop the only column in a table",
                    ));
                }
                let mut fields: Vec<Field> =
                    old.fields().iter().map(|f| f.as_ref().clone()).collect();
                fields.remove(index);
                let schema = Schema::new_with_metadata(fields, old.metadata().clone());
                relation
                    .rebuild("dropping columns", schema, |b| {
                        let mut columns = b.columns().to_vec();
                        columns.remove(index);
                        columns
                    })
                    .await?;
            }
            AlterAction::RenameColumn {
                from,
                to,
                if_exists,
            } => {
                let Some(index) = column_index(&old, from) else {
                    if *if_exists {
                        return self.update("RENAME COLUMN", SessionUpdate::default()).await;
                    }
                    return Err(column_not_found(from));
                };
                if column_index(&old, to).is_some() {
                    return Err(EngineError::new(
                        ErrorCode::COLUMN_ALREADY_EXISTS,
                        format!("Column '{to}' already exists"),
                    ));
                }
                let fields: Vec<Field> = old
                    .fields()
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let field = f.as_ref().clone();
                        if i == index {
                            field.with_name(to)
                        } else {
                            field
                        }
                    })
                    .collect();
                let schema = Schema::new_with_metadata(fields, old.metadata().clone());
                relation
                    .rebuild("renaming columns", schema, |b| b.columns().to_vec())
                    .await?;
            }
        }
        self.update(alter_update_type(&alter), SessionUpdate::default())
            .await
    }

    /// `ALTER TABLE|VIEW ... RENAME TO target`, within one catalog.
    fn rename(
        &self,
        relation: &Relation,
        kind: RelationKind,
        target: &[String],
    ) -> EngineResult<()> {
        let (catalog, schema, name) = self.qualify(target)?;
        let noun = kind.noun();
        if catalog != relation.catalog {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                format!("{noun} rename across catalogs is not supported"),
            ));
        }
        let target_schemas = self.schema_provider(&catalog, &schema).map_err(|_| {
            EngineError::new(
                ErrorCode::SCHEMA_NOT_FOUND,
                format!("Target schema '{catalog}.{schema}' does not exist"),
            )
        })?;
        if target_schemas.table_exist(&name) {
            return Err(EngineError::new(
                ErrorCode::TABLE_ALREADY_EXISTS,
                format!(
                    "Target {} '{catalog}.{schema}.{name}' already exists",
                    noun.to_lowercase()
                ),
            ));
        }
        let what = format!("renaming {}s", noun.to_lowercase());
        target_schemas
            .register_table(name, Arc::clone(&relation.table))
            .map_err(|_| connector_cannot(&what))?;
        relation.schemas.deregister_table(&relation.name)?;
        Ok(())
    }

    /// `SHOW CREATE TABLE|VIEW|SCHEMA`.
    pub(super) async fn show_create(
        &self,
        kind: ShowCreateKind,
        parts: &[String],
    ) -> EngineResult<Completion> {
        let (column, text) = match kind {
            ShowCreateKind::Schema => {
                let (catalog, schema) = self.resolve_schema(parts)?;
                (
                    "Create Schema",
                    format!("CREATE SCHEMA {catalog}.{}", format_ident(&schema)),
                )
            }
            ShowCreateKind::Table | ShowCreateKind::View => {
                let wanted = if kind == ShowCreateKind::Table {
                    RelationKind::Table
                } else {
                    RelationKind::View
                };
                let relation = match self.find_relation(parts).await? {
                    Some(r) if r.kind() != wanted => {
                        return Err(EngineError::new(
                            ErrorCode::NOT_SUPPORTED,
                            format!(
                                "Relation '{}' is a {}, not a {}",
                                r.qualified(),
                                r.kind().noun().to_lowercase(),
                                wanted.noun().to_lowercase()
                            ),
                        ));
                    }
                    found => self.expect_kind(found, parts, wanted)?,
                };
                let name = format!(
                    "{}.{}.{}",
                    format_ident(&relation.catalog),
                    format_ident(&relation.schema),
                    format_ident(&relation.name)
                );
                if wanted == RelationKind::View {
                    let definition = relation.table.get_table_definition().ok_or_else(|| {
                        EngineError::new(
                            ErrorCode::NOT_SUPPORTED,
                            format!("View '{}' has no stored definition", relation.qualified()),
                        )
                    })?;
                    (
                        "Create View",
                        format!("CREATE VIEW {name} SECURITY DEFINER AS\n{definition}"),
                    )
                } else {
                    ("Create Table", create_table_text(&name, &relation))
                }
            }
        };
        self.values(
            &[(column, TrinoType::VARCHAR)],
            vec![vec![Value::from(text)]],
        )
        .await
    }
}

fn alter_update_type(alter: &Alter) -> &'static str {
    match (&alter.action, alter.kind) {
        (AlterAction::RenameTo(_), RelationKind::View) => "RENAME VIEW",
        (AlterAction::RenameTo(_), RelationKind::Table) => "RENAME TABLE",
        (AlterAction::AddColumn { .. }, _) => "ADD COLUMN",
        (AlterAction::DropColumn { .. }, _) => "DROP COLUMN",
        (AlterAction::RenameColumn { .. }, _) => "RENAME COLUMN",
    }
}

/// `CREATE TABLE` text as Trino's `SHOW CREATE TABLE` prints it.
fn create_table_text(name: &str, relation: &Relation) -> String {
    let schema = relation.table.schema();
    let hidden = hidden_columns(&relation.schema, &relation.name);
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| !hidden.contains(&f.name().as_str()))
        .map(|field| {
            let mut line = format!(
                "   {} {}",
                format_ident(field.name()),
                trino_type_of_field(field)
            );
            if !field.is_nullable() {
                line.push_str(" NOT NULL");
            }
            if let Some(comment) = column_comment(field) {
                let _ = write!(line, " COMMENT {}", quote_literal(comment));
            }
            line
        })
        .collect();
    let mut text = format!("CREATE TABLE {name} (\n{}\n)", columns.join(",\n"));
    if let Some(comment) = table_comment(&schema) {
        let _ = write!(text, "\nCOMMENT {}", quote_literal(comment));
    }
    text
}
