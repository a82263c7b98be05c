//! The client: one server, one session, statements run through it.

use std::time::Duration;

use vivace_protocol::QueryResults;

use crate::error::ClientError;
use crate::options::{ClientOptions, Credentials};
use crate::session::{ClientSession, SessionUpdate};

/// A protocol client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
    credentials: Credentials,
    /// The session sent with each statement.
    pub session: ClientSession,
}

/// Statuses on which a request is retried.
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// How many times a retryable answer is retried, with a doubling pause up to 2 s.
const MAX_RETRIES: u32 = 8;

/// A response: its body parsed, and the session changes its headers carry.
pub(crate) struct Response {
    pub(crate) results: QueryResults,
    pub(crate) update: SessionUpdate,
}

impl Client {
    /// A client for `server` (such as `http://localhost:8080`) with default options.
    pub fn new(server: &str, session: ClientSession) -> Result<Self, ClientError> {
        Self::with_options(&ClientOptions::new(server), session)
    }

    /// A client with explicit TLS, credential and timeout options.
    pub fn with_options(
        options: &ClientOptions,
        session: ClientSession,
    ) -> Result<Self, ClientError> {
        let server = options.server.trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&server)
            .map_err(|e| ClientError::Config(format!("invalid server URL '{server}': {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ClientError::Config(format!(
                "invalid server URL '{server}': expected http:// or https:// and a host"
            )));
        }
        if url.scheme() == "http" && !matches!(options.credentials, Credentials::None) {
            return Err(ClientError::Config(
                "authentication with a password or an access token requires an https:// server"
                    .to_string(),
            ));
        }
        Ok(Client {
            http: options.http_client()?,
            server,
            credentials: options.credentials.clone(),
            session,
        })
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `POST /v1/statement` of `sql` with the session's headers: the statement's first
    /// response.
    pub(crate) async fn post_statement(&self, sql: &str) -> Result<Response, ClientError> {
        let url = format!("{}/v1/statement", self.server);
        self.send(&url, || {
            let mut request = self
                .authorized(self.http.post(&url))
                .header("Content-Type", "text/plain; charset=utf-8")
                .body(sql.to_string());
            for (name, value) in self.session.headers() {
                request = request.header(name, value);
            }
            request
        })
        .await
    }

    /// `GET` of a `nextUri`.
    pub(crate) async fn next(&self, uri: &str) -> Result<Response, ClientError> {
        self.send(uri, || self.authorized(self.http.get(uri))).await
    }

    /// `DELETE` of a `nextUri`: cancels the query.
    pub(crate) async fn delete(&self, uri: &str) -> Result<(), ClientError> {
        let response = self
            .authorized(self.http.delete(uri))
            .send()
            .await
            .map_err(|e| ClientError::transport(uri, &e))?;
        let status = response.status().as_u16();
        if status >= 400 && status != 404 && status != 410 {
            return Err(ClientError::Http {
                url: uri.to_string(),
                status,
                body: response.text().await.unwrap_or_default(),
            });
        }
        Ok(())
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credentials {
            Credentials::None => request,
            Credentials::Password { user, password } => request.basic_auth(user, Some(password)),
            Credentials::AccessToken(token) => request.bearer_auth(token),
        }
    }

    async fn send(
        &self,
        url: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, ClientError> {
        let mut attempt = 0;
        loop {
            let response = make()
                .send()
                .await
                .map_err(|e| ClientError::transport(url, &e))?;
            let status = response.status().as_u16();
            if retryable(status) && attempt < MAX_RETRIES {
                let pause = Duration::from_millis(50 << attempt).min(Duration::from_secs(2));
                attempt += 1;
                tokio::time::sleep(pause).await;
                continue;
            }
            let mut update = SessionUpdate::default();
            crate::session::read_update(&mut update, response.headers());
            let body = response
                .text()
                .await
                .map_err(|e| ClientError::transport(url, &e))?;
            if status != 200 {
                return Err(ClientError::Http {
                    url: url.to_string(),
                    status,
                    body: first_line(&body),
                });
            }
            let results = serde_json::from_str(&body).map_err(|e| ClientError::Protocol {
                url: url.to_string(),
                reason: format!("{e}; the body starts with '{}'", first_line(&body)),
            })?;
            return Ok(Response { results, update });
        }
    }
}

/// The first line of a body, at most 200 characters: enough to say what answered.
fn first_line(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line.to_string(),
    }
}
