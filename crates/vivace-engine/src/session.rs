//! The session a query runs in: who runs it and with which defaults, and what a statement
//! changes for the client's next statements.
//!
//! The server keeps no session state between requests: clients send it in headers on every
//! statement, and statements such as `USE` answer with a [`SessionUpdate`] the server turns into
//! response headers.

use std::collections::{BTreeMap, BTreeSet};
pub use vivace_protocol::SessionUpdate;

/// Who is running a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The session user.
    pub user: String,
    /// Groups the user belongs to, from authentication.
    pub groups: Vec<String>,
    /// How the user was authenticated (`PASSWORD`, `JWT`), or `None` when the header was
    /// trusted.
    pub authenticated_by: Option<String>,
}

/// Everything the client told us about the context of a statement.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Who runs it.
    pub identity: Identity,
    /// The client's name (`X-Trino-Source`).
    pub source: Option<String>,
    /// The default catalog.
    pub catalog: Option<String>,
    /// The default schema.
    pub schema: Option<String>,
    /// The SQL path.
    pub path: Option<String>,
    /// The session time zone (an IANA name or an offset).
    pub time_zone: Option<String>,
    /// The client's locale.
    pub language: Option<String>,
    /// Free-text client information.
    pub client_info: Option<String>,
    /// Tags for resource-group selection.
    pub client_tags: Vec<String>,
    /// Capabilities the client announced, such as `PARAMETRIC_DATETIME`.
    pub client_capabilities: BTreeSet<String>,
    /// Session properties, system (`name`) and catalog (`catalog.name`).
    pub properties: BTreeMap<String, String>,
    /// Prepared statements by name.
    pub prepared_statements: BTreeMap<String, String>,
    /// `None` when the client sent no transaction header (it does not support transactions),
    /// `Some("NONE")` outside a transaction, otherwise the transaction id.
    pub transaction_id: Option<String>,
    /// Free-text trace token.
    pub trace_token: Option<String>,
}

impl Session {
    /// Whether the client understands precision in time and timestamp types.
    pub fn supports_parametric_datetime(&self) -> bool {
        self.client_capabilities.contains("PARAMETRIC_DATETIME")
    }

    /// Whether an explicit transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.transaction_id
            .as_deref()
            .is_some_and(|id| !id.eq_ignore_ascii_case("NONE"))
    }
}
