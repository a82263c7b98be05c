//! The session a client sends with each statement, and the changes servers send back.

use std::collections::BTreeMap;

use reqwest::header::HeaderMap;
use vivace_protocol::ProtocolHeaders;
pub use vivace_protocol::SessionUpdate;

const HEADERS: ProtocolHeaders = ProtocolHeaders::Trino;

/// Session settings sent with each statement.
#[derive(Debug, Clone, Default)]
pub struct ClientSession {
    /// The user. Empty sends no user header, so that the server takes the authenticated
    /// principal's name (as with an access token).
    pub user: String,
    /// The `X-Trino-Source` (the client's name); `vivace-client` when unset.
    pub source: Option<String>,
    /// The default catalog.
    pub catalog: Option<String>,
    /// The default schema.
    pub schema: Option<String>,
    /// The SQL path.
    pub path: Option<String>,
    /// Session properties.
    pub properties: BTreeMap<String, String>,
    /// The time zone.
    pub time_zone: Option<String>,
    /// Client tags, for resource group selection.
    pub client_tags: Vec<String>,
    /// Free-form client information.
    pub client_info: Option<String>,
    /// Prepared statements by name.
    pub prepared_statements: BTreeMap<String, String>,
    /// The open transaction, if any.
    pub transaction_id: Option<String>,
}

impl ClientSession {
    /// Applies what a finished statement changed.
    pub fn apply(&mut self, update: &SessionUpdate) {
        if let Some(catalog) = &update.set_catalog {
            self.catalog = Some(catalog.clone());
        }
        if let Some(schema) = &update.set_schema {
            self.schema = Some(schema.clone());
        }
        if let Some(path) = &update.set_path {
            self.path = Some(path.clone());
        }
        for (name, value) in &update.set_properties {
            self.properties.insert(name.clone(), value.clone());
        }
        for name in &update.reset_properties {
            self.properties.remove(name);
        }
        for (name, sql) in &update.added_prepared {
            self.prepared_statements.insert(name.clone(), sql.clone());
        }
        for name in &update.deallocated_prepared {
            self.prepared_statements.remove(name);
        }
        if let Some(id) = &update.started_transaction_id {
            self.transaction_id = Some(id.clone());
        }
        if update.clear_transaction_id {
            self.transaction_id = None;
        }
    }

    /// The request headers that carry this session.
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            (
                HEADERS.source(),
                self.source
                    .clone()
                    .unwrap_or_else(|| "vivace-client".to_string()),
            ),
            (
                HEADERS.client_capabilities(),
                "PARAMETRIC_DATETIME".to_string(),
            ),
            (
                HEADERS.transaction_id(),
                self.transaction_id
                    .clone()
                    .unwrap_or_else(|| "NONE".to_string()),
            ),
        ];
        if !self.user.is_empty() {
            headers.push((HEADERS.user(), self.user.clone()));
        }
        let optional = [
            (HEADERS.catalog(), &self.catalog),
            (HEADERS.schema(), &self.schema),
            (HEADERS.path(), &self.path),
            (HEADERS.time_zone(), &self.time_zone),
            (HEADERS.client_info(), &self.client_info),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                headers.push((name, value.clone()));
            }
        }
        if !self.client_tags.is_empty() {
            headers.push((HEADERS.client_tags(), self.client_tags.join(",")));
        }
        for (name, value) in &self.properties {
            headers.push((HEADERS.session(), format!("{name}={}", encode(value))));
        }
        for (name, sql) in &self.prepared_statements {
            headers.push((
                HEADERS.prepared_statement(),
                format!("{}={}", encode(name), encode(sql)),
            ));
        }
        headers
    }
}

/// Adds to `update` what one response's headers say.
pub(crate) fn read_update(update: &mut SessionUpdate, headers: &HeaderMap) {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_string)
            .collect()
    };
    if let Some(catalog) = values(HEADERS.set_catalog()).pop() {
        update.set_catalog = Some(catalog);
    }
    if let Some(schema) = values(HEADERS.set_schema()).pop() {
        update.set_schema = Some(schema);
    }
    if let Some(path) = values(HEADERS.set_path()).pop() {
        update.set_path = Some(path);
    }
    for item in values(HEADERS.set_session()) {
        if let Some((name, value)) = item.split_once('=') {
            update
                .set_properties
                .push((name.trim().to_string(), decode(value.trim())));
        }
    }
    for name in values(HEADERS.clear_session()) {
        update.reset_properties.push(name.trim().to_string());
    }
    for item in values(HEADERS.added_prepare()) {
        if let Some((name, sql)) = item.split_once('=') {
            update
                .added_prepared
                .push((decode(name.trim()), decode(sql.trim())));
        }
    }
    for name in values(HEADERS.deallocated_prepare()) {
        update.deallocated_prepared.push(decode(name.trim()));
    }
    if let Some(id) = values(HEADERS.started_transaction_id()).pop() {
        update.started_transaction_id = Some(id);
    }
    if !values(HEADERS.clear_transaction_id()).is_empty() {
        update.clear_transaction_id = true;
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn updates_read_from_headers_change_the_session() {
        let mut headers = HeaderMap::new();
        headers.insert("x-trino-set-catalog", HeaderValue::from_static("memory"));
        headers.insert("x-trino-set-schema", HeaderValue::from_static("default"));
        headers.append(
            "x-trino-set-session",
            HeaderValue::from_static("query_max_run_time=1%20h"),
        );
        headers.append("x-trino-clear-session", HeaderValue::from_static("old"));
        headers.append(
            "x-trino-added-prepare",
            HeaderValue::from_static("q1=SELECT+%3F"),
        );
        let mut update = SessionUpdate::default();
        read_update(&mut update, &headers);

        let mut session = ClientSession {
            user: "u".to_string(),
            properties: BTreeMap::from([("old".to_string(), "1".to_string())]),
            ..ClientSession::default()
        };
        session.apply(&update);
        assert_eq!(session.catalog.as_deref(), Some("memory"));
        assert_eq!(session.schema.as_deref(), Some("default"));
        assert_eq!(
            session.properties,
            BTreeMap::from([("query_max_run_time".to_string(), "1 h".to_string())])
        );
        assert_eq!(session.prepared_statements["q1"], "SELECT ?");
    }

    #[test]
    fn session_values_are_url_encoded_in_headers() {
        let session = ClientSession {
            user: "u".to_string(),
            properties: BTreeMap::from([("p".to_string(), "a b,c=d".to_string())]),
            client_tags: vec!["etl".to_string(), "nightly".to_string()],
            ..ClientSession::default()
        };
        let headers = session.headers();
        assert!(headers.contains(&("x-trino-session", "p=a+b%2Cc%3Dd".to_string())));
        assert!(headers.contains(&("x-trino-client-tags", "etl,nightly".to_string())));
        assert!(headers.contains(&("x-trino-source", "vivace-client".to_string())));
    }
}
