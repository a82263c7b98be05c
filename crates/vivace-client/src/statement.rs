//! A running statement: its latest response, paged through one `nextUri` at a time.

use serde_json::Value;
use vivace_protocol::{Column, QueryError, QueryResults, StatementStats, Warning};

use crate::client::{Client, Response};
use crate::error::ClientError;
use crate::session::SessionUpdate;

/// The whole outcome of a statement.
#[derive(Debug, Clone, Default)]
pub struct QueryOutput {
    /// The query id.
    pub id: String,
    /// The output columns.
    pub columns: Vec<Column>,
    /// Every row.
    pub rows: Vec<Vec<Value>>,
    /// The update type of a statement that is not a query.
    pub update_type: Option<String>,
    /// Rows written.
    pub update_count: Option<i64>,
    /// The session changes the statement asked for (not applied by [`Client::execute`]).
    pub session_update: SessionUpdate,
}

/// Submitting statements: with [`Statement`], this is what a client runs.
impl Client {
    /// Submits `sql` and returns the running statement at its first response.
    pub async fn submit(&self, sql: &str) -> Result<Statement<'_>, ClientError> {
        let response = self.post_statement(sql).await?;
        Ok(Statement::new(self, response))
    }

    /// Runs `sql` to the end and returns all of its output.
    pub async fn execute(&self, sql: &str) -> Result<QueryOutput, ClientError> {
        let mut statement = self.submit(sql).await?;
        let mut rows = Vec::new();
        loop {
            rows.extend(statement.take_rows());
            statement.check()?;
            if !statement.advance().await? {
                break;
            }
        }
        Ok(QueryOutput {
            id: statement.id().to_string(),
            columns: statement
                .columns()
                .map(<[Column]>::to_vec)
                .unwrap_or_default(),
            rows,
            update_type: statement.update_type().map(str::to_string),
            update_count: statement.update_count(),
            session_update: statement.session_update().clone(),
        })
    }
}

/// A statement submitted to the server. Each [`Statement::advance`] fetches the next
/// response; rows are taken page by page with [`Statement::take_rows`].
///
/// `advance` is cancel-safe: dropping it midway leaves the statement at its last response,
/// so [`Statement::cancel`] can still reach the query.
#[derive(Debug)]
pub struct Statement<'c> {
    client: &'c Client,
    current: QueryResults,
    columns: Option<Vec<Column>>,
    update_type: Option<String>,
    update_count: Option<i64>,
    warnings: Vec<Warning>,
    session_update: SessionUpdate,
}

impl<'c> Statement<'c> {
    pub(crate) fn new(client: &'c Client, first: Response) -> Self {
        let mut statement = Statement {
            client,
            current: first.results.clone(),
            columns: None,
            update_type: None,
            update_count: None,
            warnings: Vec::new(),
            session_update: SessionUpdate::default(),
        };
        statement.absorb(first);
        statement
    }

    fn absorb(&mut self, response: Response) {
        let Response {
            mut results,
            update,
        } = response;
        if let Some(columns) = results.columns.take() {
            self.columns = Some(columns);
        }
        if results.update_type.is_some() {
            self.update_type = results.update_type.take();
        }
        if results.update_count.is_some() {
            self.update_count = results.update_count;
        }
        for warning in results.warnings.drain(..) {
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
        merge(&mut self.session_update, update);
        self.current = results;
    }

    /// The query id.
    pub fn id(&self) -> &str {
        &self.current.id
    }

    /// The query's page on the server.
    pub fn info_uri(&self) -> &str {
        &self.current.info_uri
    }

    /// The latest progress and resource figures.
    pub fn stats(&self) -> &StatementStats {
        &self.current.stats
    }

    /// The output columns, once the server has sent them.
    pub fn columns(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    /// Takes the rows of the latest response.
    pub fn take_rows(&mut self) -> Vec<Vec<Value>> {
        self.current.data.take().unwrap_or_default()
    }

    /// The failure, once the query failed.
    pub fn error(&self) -> Option<&QueryError> {
        self.current.error.as_ref()
    }

    /// `Err` when the query failed.
    pub fn check(&self) -> Result<(), ClientError> {
        match &self.current.error {
            Some(error) => Err(ClientError::Query {
                query_id: self.current.id.clone(),
                error: Box::new(error.clone()),
            }),
            None => Ok(()),
        }
    }

    /// The update type of a statement that is not a query (`INSERT`, `USE`, ...).
    pub fn update_type(&self) -> Option<&str> {
        self.update_type.as_deref()
    }

    /// Rows written, for DML.
    pub fn update_count(&self) -> Option<i64> {
        self.update_count
    }

    /// Every warning seen so far.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The session changes seen so far.
    pub fn session_update(&self) -> &SessionUpdate {
        &self.session_update
    }

    /// Whether the server has more to send.
    pub fn has_next(&self) -> bool {
        self.current.next_uri.is_some()
    }

    /// Fetches the next response. `Ok(false)` when there was none (the statement is done).
    pub async fn advance(&mut self) -> Result<bool, ClientError> {
        let Some(next) = self.current.next_uri.clone() else {
            return Ok(false);
        };
        let response = self.client.next(&next).await?;
        self.absorb(response);
        Ok(true)
    }

    /// Cancels the query (a `DELETE` of its `nextUri`), if it is still running.
    pub async fn cancel(&mut self) -> Result<(), ClientError> {
        if let Some(next) = self.current.next_uri.take() {
            self.client.delete(&next).await?;
        }
        Ok(())
    }
}

fn merge(into: &mut SessionUpdate, from: SessionUpdate) {
    if from.set_catalog.is_some() {
        into.set_catalog = from.set_catalog;
    }
    if from.set_schema.is_some() {
        into.set_schema = from.set_schema;
    }
    if from.set_path.is_some() {
        into.set_path = from.set_path;
    }
    into.set_properties.extend(from.set_properties);
    into.reset_properties.extend(from.reset_properties);
    into.added_prepared.extend(from.added_prepared);
    into.deallocated_prepared.extend(from.deallocated_prepared);
    if from.started_transaction_id.is_some() {
        into.started_transaction_id = from.started_transaction_id;
    }
    into.clear_transaction_id |= from.clear_transaction_id;
}
