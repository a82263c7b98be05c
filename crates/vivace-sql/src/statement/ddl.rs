//! DDL that Trino accepts and DataFusion cannot plan: `CREATE TABLE` with Trino types and
//! comments, `CREATE VIEW` that keeps its text, `COMMENT ON`, `ALTER TABLE|VIEW` and
//! `SHOW CREATE`. `CREATE TABLE ... AS` stays with DataFusion.

use sqlparser::tokenizer::Token;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use super::{Statement, Tokens};
use crate::{SqlResult, TrinoError};

/// Whether a statement names a table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// A table.
    Table,
    /// A view.
    View,
}

impl RelationKind {
    /// `Table` or `View`, as Trino's messages say it.
    pub fn noun(self) -> &'static str {
        match self {
            RelationKind::Table => "Table",
            RelationKind::View => "View",
        }
    }
}

/// A column of `CREATE TABLE` or `ALTER TABLE ... ADD COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDefinition {
    /// The column name.
    pub name: String,
    /// Its type.
    pub data_type: TrinoType,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
}

/// An element of `CREATE TABLE`'s list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableElement {
    /// A column.
    Column(ColumnDefinition),
    /// `LIKE other [INCLUDING | EXCLUDING PROPERTIES]`: the other table's columns.
    Like(Vec<String>),
}

/// `CREATE TABLE [IF NOT EXISTS] name (elements) [COMMENT '...'] [WITH (...)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    /// The table name, as written.
    pub name: Vec<String>,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Columns and `LIKE` clauses, in order.
    pub elements: Vec<TableElement>,
    /// The table comment.
    pub comment: Option<String>,
    /// Names of the `WITH (...)` properties.
    pub properties: Vec<String>,
}

/// `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [(aliases)] [COMMENT '...'] [WITH (...)] AS
/// query [WITH [NO] DATA]` with one of the parts DataFusion does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTableAs {
    /// The table name, as written.
    pub name: Vec<String>,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// The table comment.
    pub comment: Option<String>,
    /// Names of the `WITH (...)` properties.
    pub properties: Vec<String>,
    /// The statement without those clauses (`WITH NO DATA` becomes `LIMIT 0`), for DataFusion.
    pub sql: String,
}

/// `CREATE [OR REPLACE] VIEW name [COMMENT '...'] [SECURITY DEFINER | INVOKER] AS query`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateView {
    /// The view name, as written.
    pub name: Vec<String>,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
    /// The query, as written.
    pub query: String,
}

/// `COMMENT ON TABLE|VIEW|COLUMN name IS 'text' | NULL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// What is commented.
    pub target: CommentTarget,
    /// The new comment; `None` removes it.
    pub comment: Option<String>,
}

/// The object of `COMMENT ON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentTarget {
    /// A table or view.
    Relation(RelationKind, Vec<String>),
    /// A column: the table's name parts, then the column.
    Column(Vec<String>, String),
}

/// `ALTER TABLE|VIEW [IF EXISTS] name action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alter {
    /// Table or view.
    pub kind: RelationKind,
    /// The name, as written.
    pub name: Vec<String>,
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// The change.
    pub action: AlterAction,
}

/// What `ALTER TABLE|VIEW` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterAction {
    /// `RENAME TO name`.
    RenameTo(Vec<String>),
    /// `ADD COLUMN [IF NOT EXISTS] column`.
    AddColumn {
        /// The new column.
        column: ColumnDefinition,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP COLUMN [IF EXISTS] name`.
    DropColumn {
        /// The column.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `RENAME COLUMN [IF EXISTS] from TO to`.
    RenameColumn {
        /// The column.
        from: String,
        /// Its new name.
        to: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
}

/// What `SHOW CREATE` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowCreateKind {
    /// `SHOW CREATE TABLE`.
    Table,
    /// `SHOW CREATE VIEW`.
    View,
    /// `SHOW CREATE SCHEMA`.
    Schema,
}

/// After `CREATE`: the DDL handled here, or `None` for what DataFusion plans (`CREATE TABLE
/// ... AS`, `CREATE SCHEMA`).
pub(super) fn parse_create(t: &mut Tokens<'_>) -> SqlResult<Option<Statement>> {
    let or_replace = t.keywords(&["OR", "REPLACE"]);
    if t.keyword("VIEW") {
        return parse_create_view(t, or_replace).map(Some);
    }
    if !t.keyword("TABLE") {
        return Ok(None);
    }
    let if_not_exists = t.keywords(&["IF", "NOT", "EXISTS"]);
    let name = t.qualified_name()?;
    if t.peek() != Some(&Token::LParen) || is_column_alias_list(t) {
        // `CREATE TABLE t AS ...` and `CREATE TABLE t (a, b) AS ...`.
        return parse_create_table_as(t, name, or_replace);
    }
    if or_replace {
        return Err(TrinoError::at(
            ErrorCode::NOT_SUPPORTED,
            "CREATE OR REPLACE TABLE is only supported with AS",
            t.location(),
        ));
    }
    t.pos += 1;
    let mut elements = Vec::new();
    loop {
        if t.keyword("LIKE") {
            elements.push(TableElement::Like(t.qualified_name()?));
            if (t.keyword("INCLUDING") || t.keyword("EXCLUDING")) && !t.keyword("PROPERTIES") {
                return Err(t.error("'PROPERTIES'"));
            }
        } else {
            elements.push(TableElement::Column(parse_column(t)?));
        }
        if !t.list_continues()? {
            break;
        }
    }
    let comment = if t.keyword("COMMENT") {
        Some(t.string()?)
    } else {
        None
    };
    let properties = parse_properties(t)?;
    t.end()?;
    Ok(Some(Statement::CreateTable(CreateTable {
        name,
        if_not_exists,
        elements,
        comment,
        properties,
    })))
}

/// Whether the `(` after a table name opens a list of bare column names followed by `AS`.
/// `CREATE TABLE ... AS` after the name: a [`CreateTableAs`] when it has column aliases,
/// `COMMENT`, `WITH (...)` or `WITH [NO] DATA`; otherwise `None`, and DataFusion reads it.
fn parse_create_table_as(
    t: &mut Tokens<'_>,
    name: Vec<String>,
    or_replace: bool,
) -> SqlResult<Option<Statement>> {
    let offset = |t: &Tokens<'_>, pos: usize| t.tokens.get(pos).map_or(t.sql.len(), |(_, o, _)| *o);
    let head_end = offset(t, t.pos);
    let aliases = if t.peek() == Some(&Token::LParen) {
        // The column aliases, checked by `is_column_alias_list`; DataFusion does not read
        // them, so they become the aliases of a derived table.
        while t.peek().is_some_and(|token| *token != Token::RParen) {
            t.pos += 1;
        }
        t.pos += 1;
        Some(t.sql[head_end..offset(t, t.pos)].trim().to_string())
    } else {
        None
    };
    let comment = if t.keyword("COMMENT") {
        Some(t.string()?)
    } else {
        None
    };
    let properties = parse_properties(t)?;
    if !t.keyword("AS") {
        return Ok(None);
    }
    let query_start = offset(t, t.pos);
    let words: Vec<Option<String>> = t.tokens[t.pos..]
        .iter()
        .rev()
        .take(3)
        .map(|(token, _, _)| match token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    let word = |i: usize| words.get(i).cloned().flatten();
    let (with_data, clause_len) = match (word(2), word(1), word(0)) {
        (Some(with), Some(no), Some(data)) if with == "WITH" && no == "NO" && data == "DATA" => {
            (Some(false), 3)
        }
        (_, Some(with), Some(data)) if with == "WITH" && data == "DATA" => (Some(true), 2),
        _ => (None, 0),
    };
    if comment.is_none() && properties.is_empty() && with_data.is_none() && aliases.is_none() {
        return Ok(None);
    }
    let query_end = offset(t, t.tokens.len() - clause_len);
    let mut query = t.sql[query_start..query_end].trim().to_string();
    if let Some(aliases) = aliases {
        query = format!("SELECT * FROM ({query}) AS aliased{aliases}");
    }
    if with_data == Some(false) {
        query = format!("SELECT * FROM ({query}) AS no_data LIMIT 0");
    }
    Ok(Some(Statement::CreateTableAs(CreateTableAs {
        name,
        or_replace,
        comment,
        properties,
        sql: format!("{} AS {query}", t.sql[..head_end].trim_end()),
    })))
}

fn is_column_alias_list(t: &Tokens<'_>) -> bool {
    let mut pos = t.pos + 1;
    loop {
        match t.tokens.get(pos).map(|(token, _, _)| token) {
            Some(Token::Word(_)) => pos += 1,
            _ => return false,
        }
        match t.tokens.get(pos).map(|(token, _, _)| token) {
            Some(Token::Comma) => pos += 1,
            Some(Token::RParen) => {
                return matches!(
                    t.tokens.get(pos + 1).map(|(token, _, _)| token),
                    Some(Token::Word(w)) if ["AS", "COMMENT", "WITH"]
                        .iter()
                        .any(|k| w.value.eq_ignore_ascii_case(k))
                );
            }
            _ => return false,
        }
    }
}

/// `name type [NOT NULL] [COMMENT '...'] [WITH (...)]`.
fn parse_column(t: &mut Tokens<'_>) -> SqlResult<ColumnDefinition> {
    let name = t.identifier()?;
    let data_type = parse_type(t)?;
    let not_null = t.keywords(&["NOT", "NULL"]);
    let comment = if t.keyword("COMMENT") {
        Some(t.string()?)
    } else {
        None
    };
    let properties = parse_properties(t)?;
    if let Some(property) = properties.first() {
        return Err(TrinoError::new(
            ErrorCode::INVALID_COLUMN_PROPERTY,
            format!("Column property '{property}' does not exist"),
        ));
    }
    Ok(ColumnDefinition {
        name,
        data_type,
        not_null,
        comment,
    })
}

/// A type, up to the next `,`, `)`, `NOT NULL`, `COMMENT` or `WITH (` outside parentheses.
fn parse_type(t: &mut Tokens<'_>) -> SqlResult<TrinoType> {
    let start = t.pos;
    let location = t.location();
    let mut depth = 0usize;
    while let Some(token) = t.peek() {
        match token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 => break,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 0 => break,
            Token::Word(w) if depth == 0 && w.quote_style.is_none() => {
                let word = w.value.to_ascii_uppercase();
                let ends = match word.as_str() {
                    "NOT" | "COMMENT" => true,
                    // `timestamp with time zone` continues the type; `WITH (` starts properties.
                    "WITH" => {
                        t.tokens.get(t.pos + 1).map(|(token, _, _)| token) == Some(&Token::LParen)
                    }
                    _ => false,
                };
                if ends {
                    break;
                }
            }
            _ => {}
        }
        t.pos += 1;
    }
    if t.pos == start {
        return Err(t.error("<type>"));
    }
    let begin = t.tokens[start].1;
    let end = t
        .tokens
        .get(t.pos)
        .map_or(t.sql.len(), |(_, offset, _)| *offset);
    let text = t.sql[begin..end].trim();
    TrinoType::parse(text).map_err(|_| {
        TrinoError::at(
            ErrorCode::TYPE_NOT_FOUND,
            format!("Unknown type '{text}'"),
            location,
        )
    })
}

/// `WITH (name = value, ...)`: the property names. The values are skipped; the caller
/// decides which names the connector knows.
fn parse_properties(t: &mut Tokens<'_>) -> SqlResult<Vec<String>> {
    if !t.keyword("WITH") {
        return Ok(vec![]);
    }
    if t.peek() != Some(&Token::LParen) {
        return Err(t.error("'('"));
    }
    t.pos += 1;
    let mut names = Vec::new();
    loop {
        names.push(t.identifier()?);
        if t.peek() != Some(&Token::Eq) {
            return Err(t.error("'='"));
        }
        t.pos += 1;
        let mut depth = 0usize;
        let value_start = t.pos;
        while let Some(token) = t.peek() {
            match token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket if depth > 0 => depth -= 1,
                Token::RParen | Token::Comma if depth == 0 => break,
                _ => {}
            }
            t.pos += 1;
        }
        if t.pos == value_start {
            return Err(t.error("<expression>"));
        }
        if !t.list_continues()? {
            break;
        }
    }
    Ok(names)
}

/// After `CREATE [OR REPLACE] VIEW`.
fn parse_create_view(t: &mut Tokens<'_>, or_replace: bool) -> SqlResult<Statement> {
    let name = t.qualified_name()?;
    let mut comment = None;
    loop {
        if comment.is_none() && t.keyword("COMMENT") {
            comment = Some(t.string()?);
        } else if t.keyword("SECURITY") {
            // Vivace runs every view with its definer's catalogs and the invoker's identity;
            // both modes are accepted, as dbt-trino always names one.
            if !(t.keyword("DEFINER") || t.keyword("INVOKER")) {
                return Err(t.error("'DEFINER', 'INVOKER'"));
            }
        } else {
            break;
        }
    }
    if !t.keyword("AS") {
        return Err(t.error("'AS'"));
    }
    let query = t.rest().to_string();
    if query.is_empty() {
        return Err(t.error("<query>"));
    }
    Ok(Statement::CreateView(CreateView {
        name,
        or_replace,
        comment,
        query,
    }))
}

/// After `COMMENT ON`.
pub(super) fn parse_comment(t: &mut Tokens<'_>) -> SqlResult<Statement> {
    let target = if t.keyword("TABLE") {
        CommentTarget::Relation(RelationKind::Table, t.qualified_name()?)
    } else if t.keyword("VIEW") {
        CommentTarget::Relation(RelationKind::View, t.qualified_name()?)
    } else if t.keyword("COLUMN") {
        let mut parts = t.qualified_name()?;
        if parts.len() < 2 {
            return Err(TrinoError::new(
                ErrorCode::SYNTAX_ERROR,
                "COMMENT ON COLUMN takes table.column",
            ));
        }
        let column = parts.pop().unwrap_or_default();
        CommentTarget::Column(parts, column)
    } else {
        return Err(t.error("'TABLE', 'VIEW', 'COLUMN'"));
    };
    if !t.keyword("IS") {
        return Err(t.error("'IS'"));
    }
    let comment = if t.keyword("NULL") {
        None
    } else {
        Some(t.string()?)
    };
    t.end()?;
    Ok(Statement::Comment(Comment { target, comment }))
}

/// After `ALTER`.
pub(super) fn parse_alter(t: &mut Tokens<'_>) -> SqlResult<Statement> {
    let kind = if t.keyword("TABLE") {
        RelationKind::Table
    } else if t.keyword("VIEW") {
        RelationKind::View
    } else if t.keyword("SCHEMA") {
        return Err(not_supported(t, "ALTER SCHEMA"));
    } else if t.keywords(&["MATERIALIZED", "VIEW"]) {
        return Err(not_supported(t, "ALTER MATERIALIZED VIEW"));
    } else {
        return Err(t.error("'TABLE', 'VIEW'"));
    };
    let if_exists = kind == RelationKind::Table && t.keywords(&["IF", "EXISTS"]);
    let name = t.qualified_name()?;
    let what = format!("ALTER {}", kind.noun().to_uppercase());
    let action = if t.keywords(&["RENAME", "TO"]) {
        AlterAction::RenameTo(t.qualified_name()?)
    } else if kind == RelationKind::View {
        return Err(not_supported(t, &format!("{what} without RENAME TO")));
    } else if t.keywords(&["ADD", "COLUMN"]) {
        let if_not_exists = t.keywords(&["IF", "NOT", "EXISTS"]);
        AlterAction::AddColumn {
            column: parse_column(t)?,
            if_not_exists,
        }
    } else if t.keywords(&["DROP", "COLUMN"]) {
        let if_exists = t.keywords(&["IF", "EXISTS"]);
        AlterAction::DropColumn {
            name: column_name(t)?,
            if_exists,
        }
    } else if t.keywords(&["RENAME", "COLUMN"]) {
        let if_exists = t.keywords(&["IF", "EXISTS"]);
        let from = column_name(t)?;
        if !t.keyword("TO") {
            return Err(t.error("'TO'"));
        }
        AlterAction::RenameColumn {
            from,
            to: t.identifier()?,
            if_exists,
        }
    } else if t.keywords(&["SET", "PROPERTIES"]) {
        return Err(not_supported(t, &format!("{what} ... SET PROPERTIES")));
    } else if t.keywords(&["SET", "AUTHORIZATION"]) {
        return Err(not_supported(t, &format!("{what} ... SET AUTHORIZATION")));
    } else if t.keywords(&["ALTER", "COLUMN"]) {
        return Err(not_supported(t, &format!("{what} ... ALTER COLUMN")));
    } else if t.keyword("EXECUTE") {
        return Err(not_supported(t, &format!("{what} ... EXECUTE")));
    } else {
        return Err(t.error("'RENAME', 'ADD', 'DROP', 'SET'"));
    };
    t.end()?;
    Ok(Statement::Alter(Alter {
        kind,
        name,
        if_exists,
        action,
    }))
}

/// A column name; Trino accepts a dotted field path here, which Vivace does not.
fn column_name(t: &mut Tokens<'_>) -> SqlResult<String> {
    let name = t.identifier()?;
    if t.peek() == Some(&Token::Period) {
        return Err(not_supported(t, "Changing a field of a row column"));
    }
    Ok(name)
}

/// After `SHOW CREATE`.
pub(super) fn parse_show_create(t: &mut Tokens<'_>) -> SqlResult<Statement> {
    let kind = if t.keyword("TABLE") {
        ShowCreateKind::Table
    } else if t.keyword("VIEW") {
        ShowCreateKind::View
    } else if t.keyword("SCHEMA") {
        ShowCreateKind::Schema
    } else if t.keywords(&["MATERIALIZED", "VIEW"]) {
        return Err(not_supported(t, "SHOW CREATE MATERIALIZED VIEW"));
    } else if t.keyword("FUNCTION") {
        return Err(not_supported(t, "SHOW CREATE FUNCTION"));
    } else {
        return Err(t.error("'TABLE', 'VIEW', 'SCHEMA'"));
    };
    let name = t.qualified_name()?;
    t.end()?;
    Ok(Statement::ShowCreate { kind, name })
}

fn not_supported(t: &Tokens<'_>, what: &str) -> TrinoError {
    TrinoError::at(
        ErrorCode::NOT_SUPPORTED,
        format!("{what} is not supported"),
        t.tokens.first().map(|(_, _, location)| *location),
    )
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn column(name: &str, data_type: &str) -> ColumnDefinition {
        ColumnDefinition {
            name: name.into(),
            data_type: TrinoType::parse(data_type).expect("type"),
            not_null: false,
            comment: None,
        }
    }

    #[test]
    fn create_table_as_with_trino_clauses() {
        let parsed = parse(
            "CREATE TABLE IF NOT EXISTS s.t (a, b) COMMENT 'c' WITH (format = 'ORC') \
             AS SELECT 1, 2 WITH NO DATA",
        )
        .expect("parses");
        let Statement::CreateTableAs(create) = parsed else {
            panic!("not a CREATE TABLE AS")
        };
        assert_eq!(create.name, ["s", "t"]);
        assert_eq!(create.comment.as_deref(), Some("c"));
        assert_eq!(create.properties, ["format"]);
        assert_eq!(
            create.sql,
            "CREATE TABLE IF NOT EXISTS s.t AS SELECT * FROM (SELECT * FROM (SELECT 1, 2) \
             AS aliased(a, b)) AS no_data LIMIT 0"
        );
        // Without Trino's clauses the statement stays DataFusion's.
        let plain = parse("CREATE TABLE t AS SELECT 1 AS x").expect("parses");
        assert!(matches!(plain, Statement::Sql(_)));
    }

    #[test]
    fn create_table_with_trino_types_comments_and_like() {
        let parsed = parse(
            "CREATE TABLE IF NOT EXISTS s.t (id bigint NOT NULL COMMENT 'the id', \
             tags array(varchar(10)), at timestamp(3) with time zone, \
             LIKE other INCLUDING PROPERTIES) COMMENT 'people' WITH (format = 'ORC', x = ARRAY[1, 2])",
        )
        .expect("parses");
        let Statement::CreateTable(create) = parsed else {
            panic!("not a CREATE TABLE")
        };
        assert_eq!(create.name, ["s", "t"]);
        assert!(create.if_not_exists);
        assert_eq!(
            create.elements,
            [
                TableElement::Column(ColumnDefinition {
                    not_null: true,
                    comment: Some("the id".into()),
                    ..column("id", "bigint")
                }),
                TableElement::Column(column("tags", "array(varchar(10))")),
                TableElement::Column(column("at", "timestamp(3) with time zone")),
                TableElement::Like(vec!["other".into()]),
            ]
        );
        assert_eq!(create.comment.as_deref(), Some("people"));
        assert_eq!(create.properties, ["format", "x"]);
    }

    #[test]
    fn create_table_as_is_left_to_datafusion() {
        for sql in [
            "CREATE TABLE t AS SELECT 1 x",
            "CREATE OR REPLACE TABLE t AS (SELECT 1 x)",
            "CREATE SCHEMA s",
        ] {
            assert!(matches!(parse(sql).expect(sql), Statement::Sql(_)), "{sql}");
        }
    }

    #[test]
    fn bad_types_and_column_properties_are_named() {
        let error = parse("CREATE TABLE t (a varchar(10)x, b int)").expect_err("bad type");
        assert_eq!(error.code, ErrorCode::TYPE_NOT_FOUND);
        assert!(error.to_string().contains("varchar(10)x"), "{error}");
        let error = parse("CREATE TABLE t (a int WITH (p = 1))").expect_err("property");
        assert_eq!(error.code, ErrorCode::INVALID_COLUMN_PROPERTY);
    }

    #[test]
    fn create_view_keeps_the_query_text_and_drops_security() {
        let parsed = parse(
            "create or replace view v comment 'c' security definer as\n  select 1 as \"x\" -- a\n",
        )
        .expect("parses");
        assert_eq!(
            parsed,
            Statement::CreateView(CreateView {
                name: vec!["v".into()],
                or_replace: true,
                comment: Some("c".into()),
                query: "select 1 as \"x\" -- a".into(),
            })
        );
    }

    #[test]
    fn comment_alter_and_show_create() {
        assert_eq!(
            parse("COMMENT ON COLUMN s.t.c IS NULL").expect("comment"),
            Statement::Comment(Comment {
                target: CommentTarget::Column(vec!["s".into(), "t".into()], "c".into()),
                comment: None,
            })
        );
        assert_eq!(
            parse("ALTER TABLE IF EXISTS t RENAME COLUMN IF EXISTS a TO b").expect("alter"),
            Statement::Alter(Alter {
                kind: RelationKind::Table,
                name: vec!["t".into()],
                if_exists: true,
                action: AlterAction::RenameColumn {
                    from: "a".into(),
                    to: "b".into(),
                    if_exists: true,
                },
            })
        );
        let Statement::Alter(add) =
            parse("ALTER TABLE t ADD COLUMN c varchar(3) COMMENT 'x'").expect("add")
        else {
            panic!("not an alter")
        };
        assert!(
            matches!(add.action, AlterAction::AddColumn { ref column, .. }
            if column.data_type == TrinoType::parse("varchar(3)").expect("type"))
        );
        assert_eq!(
            parse("SHOW CREATE VIEW c.s.v").expect("show"),
            Statement::ShowCreate {
                kind: ShowCreateKind::View,
                name: vec!["c".into(), "s".into(), "v".into()],
            }
        );
        let error = parse("ALTER TABLE t SET PROPERTIES x = 1").expect_err("unsupported");
        assert_eq!(error.code, ErrorCode::NOT_SUPPORTED);
        assert!(error.to_string().contains("SET PROPERTIES"), "{error}");
    }
}
