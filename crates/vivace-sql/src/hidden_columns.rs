//! Trino's hidden columns: columns of a table that can be selected by name but that
//! `SELECT *`, `DESCRIBE` and the column listings leave out.

/// The hidden columns of the table `schema.table`; only `information_schema` has any.
pub fn hidden_columns(schema: &str, table: &str) -> &'static [&'static str] {
    if !schema.eq_ignore_ascii_case("information_schema") {
        return &[];
    }
    match table.to_ascii_lowercase().as_str() {
        "tables" => &["trino_relation_type", "table_comment"],
        "columns" => &["comment", "extra_info", "column_comment"],
        _ => &[],
    }
}
