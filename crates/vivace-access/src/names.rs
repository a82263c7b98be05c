//! Who asks ([`Subject`]) and the qualified names checks are about.

use std::fmt;

/// The identity an access check is made for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The session user.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The user's enabled roles (Vivace has none yet; rules with a `role` pattern then never
    /// match, as in Trino for a user without roles).
    pub roles: Vec<String>,
}

impl Subject {
    /// A subject with `user` and `groups` and no roles.
    pub fn new(user: impl Into<String>, groups: Vec<String>) -> Self {
        Subject {
            user: user.into(),
            groups,
            roles: vec![],
        }
    }
}

/// `catalog.schema`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName {
    /// The catalog.
    pub catalog: String,
    /// The schema.
    pub schema: String,
}

impl SchemaName {
    /// `catalog.schema`.
    pub fn new(catalog: impl Into<String>, schema: impl Into<String>) -> Self {
        SchemaName {
            catalog: catalog.into(),
            schema: schema.into(),
        }
    }
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.catalog, self.schema)
    }
}

/// `catalog.schema.table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    /// The catalog.
    pub catalog: String,
    /// The schema.
    pub schema: String,
    /// The table.
    pub table: String,
}

impl TableName {
    /// `catalog.schema.table`.
    pub fn new(
        catalog: impl Into<String>,
        schema: impl Into<String>,
        table: impl Into<String>,
    ) -> Self {
        TableName {
            catalog: catalog.into(),
            schema: schema.into(),
            table: table.into(),
        }
    }

    /// Whether it is in an `information_schema`, which every reader of the catalog may read.
    pub(crate) fn in_information_schema(&self) -> bool {
        self.schema == "information_schema"
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.catalog, self.schema, self.table)
    }
}
