//! Arrow metadata keys for what Arrow's own types cannot say.

/// The Arrow field-metadata key that carries a column's Trino type name when Arrow's own type
/// does not say it all (for example `varchar(25)`, `char(3)`, `json`, `uuid`).
pub const TRINO_TYPE_METADATA_KEY: &str = "trino.type";

/// The Arrow metadata key of a comment: in a table's schema metadata, the table comment; in a
/// field's metadata, the column comment. Connectors that keep comments store them here.
pub const COMMENT_METADATA_KEY: &str = "trino.comment";

/// A table's comment, kept in its schema's metadata.
pub fn table_comment(schema: &arrow::datatypes::Schema) -> Option<&str> {
    schema
        .metadata()
        .get(COMMENT_METADATA_KEY)
        .map(String::as_str)
}

/// A column's comment, kept in its field's metadata.
pub fn column_comment(field: &arrow::datatypes::Field) -> Option<&str> {
    field
        .metadata()
        .get(COMMENT_METADATA_KEY)
        .map(String::as_str)
}
