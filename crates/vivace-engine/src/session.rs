//! The session a query runs in: who runs it and with which defaults, and what a statement
//! changes for the client's next statements.
//!
//! The server keeps no session state between requests: clients send it in headers on every
//! statement, and statements such as `USE` answer with a [`SessionUpdate`] the server turns into
//! response headers.

use std::collections::{BTreeMap, BTreeSet};

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

/// Changes a statement makes to the client's session, sent back as response headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionUpdate {
    /// New default catalog (`USE`).
    pub set_catalog: Option<String>,
    /// New default schema (`USE`).
    pub set_schema: Option<String>,
    /// New SQL path (`SET PATH`).
    pub set_path: Option<String>,
    /// Properties set (`SET SESSION`).
    pub set_properties: Vec<(String, String)>,
    /// Properties reset (`RESET SESSION`).
    pub reset_properties: Vec<String>,
    /// Statements prepared (`PREPARE`).
    pub added_prepared: Vec<(String, String)>,
    /// Statements deallocated (`DEALLOCATE PREPARE`).
    pub deallocated_prepared: Vec<String>,
    /// A transaction started (`START TRANSACTION`).
    pub started_transaction_id: Option<String>,
    /// The transaction ended (`COMMIT`, `ROLLBACK`).
    pub clear_transaction_id: bool,
}

impl SessionUpdate {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == SessionUpdate::default()
    }
}
