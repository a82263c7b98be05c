//! The changes a statement makes to the client's session, as the response headers carry them
//! (`X-Trino-Set-Catalog`, `X-Trino-Set-Session`, `X-Trino-Started-Transaction-Id`, ...). The
//! engine produces them, the server writes them, and the client reads them back.

/// Changes a statement makes to the client's session.
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
