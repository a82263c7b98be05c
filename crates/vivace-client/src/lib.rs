//! A client for the Trino/Presto client protocol: submit a statement, follow `nextUri` to the
//! end, and collect columns and rows. Used by tests and benchmarks; the CLI builds on it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use vivace_protocol::{Column, QueryError, QueryResults};

/// Errors from the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or answered with a transport error.
    #[error("cannot reach {url}: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an unexpected HTTP status.
    #[error("server answered {status} for {url}: {body}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The response text.
        body: String,
    },
    /// The response was not a protocol document.
    #[error("invalid response from {url}: {reason}")]
    Protocol {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The query failed.
    #[error("{} ({}): {}", .0.error_name, .0.error_type, .0.message)]
    Query(Box<QueryError>),
}

/// Session settings sent with each statement.
#[derive(Debug, Clone, Default)]
pub struct ClientSession {
    /// The user.
    pub user: String,
    /// The default catalog.
    pub catalog: Option<String>,
    /// The default schema.
    pub schema: Option<String>,
    /// Session properties.
    pub properties: BTreeMap<String, String>,
    /// The time zone.
    pub time_zone: Option<String>,
}

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
}

/// A protocol client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
    /// The session sent with each statement.
    pub session: ClientSession,
}

/// Statuses on which a request is retried.
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl Client {
    /// A client for `server` (such as `http://localhost:8080`).
    pub fn new(server: &str, session: ClientSession) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| ClientError::Transport {
                url: server.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            server: server.trim_end_matches('/').to_string(),
            session,
        })
    }

    fn statement_request(&self, sql: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(format!("{}/v1/statement", self.server))
            .header("X-Trino-User", &self.session.user)
            .header("X-Trino-Source", "vivace-client")
            .header("X-Trino-Client-Capabilities", "PARAMETRIC_DATETIME")
            .header("X-Trino-Transaction-Id", "NONE")
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(sql.to_string());
        if let Some(catalog) = &self.session.catalog {
            request = request.header("X-Trino-Catalog", catalog);
        }
        if let Some(schema) = &self.session.schema {
            request = request.header("X-Trino-Schema", schema);
        }
        if let Some(zone) = &self.session.time_zone {
            request = request.header("X-Trino-Time-Zone", zone);
        }
        for (name, value) in &self.session.properties {
            request = request.header("X-Trino-Session", format!("{name}={value}"));
        }
        request
    }

    async fn send(
        &self,
        url: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<QueryResults, ClientError> {
        let mut attempt = 0;
        loop {
            let response = make().send().await.map_err(|e| ClientError::Transport {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
            let status = response.status().as_u16();
            if retryable(status) && attempt < 5 {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                continue;
            }
            let body = response.text().await.map_err(|e| ClientError::Transport {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
            if status != 200 {
                return Err(ClientError::Http {
                    url: url.to_string(),
                    status,
                    body,
                });
            }
            return serde_json::from_str(&body).map_err(|e| ClientError::Protocol {
                url: url.to_string(),
                reason: e.to_string(),
            });
        }
    }

    /// Runs `sql` to the end and returns all of its output.
    pub async fn execute(&self, sql: &str) -> Result<QueryOutput, ClientError> {
        let url = format!("{}/v1/statement", self.server);
        let mut results = self.send(&url, || self.statement_request(sql)).await?;
        let mut output = QueryOutput {
            id: results.id.clone(),
            ..QueryOutput::default()
        };
        loop {
            if let Some(error) = results.error.take() {
                return Err(ClientError::Query(Box::new(error)));
            }
            if let Some(columns) = results.columns.take() {
                output.columns = columns;
            }
            if let Some(rows) = results.data.take() {
                output.rows.extend(rows);
            }
            if results.update_type.is_some() {
                output.update_type = results.update_type.take();
            }
            if results.update_count.is_some() {
                output.update_count = results.update_count;
            }
            let Some(next) = results.next_uri.take() else {
                return Ok(output);
            };
            results = self.send(&next, || self.http.get(&next)).await?;
        }
    }
}
