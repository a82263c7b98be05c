//! The front end for statements that are not plain SQL for DataFusion: session control
//! (`USE`, `SET SESSION`, `PREPARE`, ...), metadata listing (`SHOW ...`, `DESCRIBE`) and
//! transactions, and the DDL of [`ddl`]. They are recognised on the token stream, so quoting and
//! comments behave as in the SQL parser; everything else goes to DataFusion as
//! [`Statement::Sql`].

pub mod ddl;
#[cfg(test)]
mod tests;
mod tokens;
mod unsupported;

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use vivace_common::ErrorCode;

use crate::{SqlLocation, SqlResult, TrinoError};

pub(crate) use tokens::LineOffsets;
use tokens::Tokens;

/// What `SHOW STATS` describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsSource {
    /// A table's name parts.
    Table(Vec<String>),
    /// The text of a query.
    Query(String),
}

/// A recognised statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `SHOW CATALOGS [LIKE p]`
    ShowCatalogs { like: Option<Like> },
    /// `SHOW SCHEMAS [FROM c] [LIKE p]`
    ShowSchemas {
        /// The catalog, or the session's.
        catalog: Option<String>,
        /// A pattern.
        like: Option<Like>,
    },
    /// `SHOW TABLES [FROM [c.]s] [LIKE p]`
    ShowTables {
        /// `[catalog, schema]` or `[schema]`, or empty for the session's.
        qualifier: Vec<String>,
        /// A pattern.
        like: Option<Like>,
    },
    /// `SHOW COLUMNS FROM t` or `DESCRIBE t`
    ShowColumns {
        /// The table name's parts.
        table: Vec<String>,
    },
    /// `SHOW SESSION [LIKE p]`
    ShowSession { like: Option<Like> },
    /// `SHOW FUNCTIONS [LIKE p]`
    ShowFunctions { like: Option<Like> },
    /// `SHOW STATS FOR t` or `SHOW STATS FOR (query)`
    ShowStats { source: StatsSource },
    /// `CALL procedure(arguments)`
    Call {
        /// The procedure's name parts.
        procedure: Vec<String>,
        /// The arguments, in order.
        arguments: Vec<CallArgument>,
    },
    /// `SET ROLE ALL|NONE|role [IN catalog]`
    SetRole {
        /// `ALL`, `NONE`, or a role name.
        role: RoleSelection,
        /// The catalog, for a catalog role.
        catalog: Option<String>,
    },
    /// `SET PATH element [, ...]`
    SetPath {
        /// The path, as `catalog.schema, ...`.
        path: String,
    },
    /// `SET TIME ZONE LOCAL | 'zone' | INTERVAL '...' HOUR [TO MINUTE]`
    SetTimeZone {
        /// The zone (`America/New_York`, `+05:30`); `None` for `LOCAL`.
        zone: Option<String>,
    },
    /// `USE [catalog.]schema`
    Use {
        /// The catalog, if given.
        catalog: Option<String>,
        /// The schema.
        schema: String,
    },
    /// `SET SESSION name = value`
    SetSession {
        /// The property name (`name` or `catalog.name`).
        name: String,
        /// The value as text (string literals unquoted).
        value: String,
    },
    /// `RESET SESSION name`
    ResetSession {
        /// The property name.
        name: String,
    },
    /// `PREPARE name FROM statement`
    Prepare {
        /// The statement's name.
        name: String,
        /// Its SQL text.
        sql: String,
    },
    /// `EXECUTE name [USING params]`
    Execute {
        /// The prepared statement's name.
        name: String,
        /// Parameter expressions as SQL text.
        parameters: Vec<String>,
    },
    /// `EXECUTE IMMEDIATE 'sql' [USING params]`
    ExecuteImmediate {
        /// The SQL text.
        sql: String,
        /// Parameter expressions as SQL text.
        parameters: Vec<String>,
    },
    /// `DEALLOCATE PREPARE name`
    Deallocate {
        /// The statement's name.
        name: String,
    },
    /// `DESCRIBE OUTPUT name`
    DescribeOutput {
        /// The prepared statement's name.
        name: String,
    },
    /// `DESCRIBE INPUT name`
    DescribeInput {
        /// The prepared statement's name.
        name: String,
    },
    /// `START TRANSACTION [modes]`
    StartTransaction,
    /// `COMMIT [WORK]`
    Commit,
    /// `ROLLBACK [WORK]`
    Rollback,
    /// `EXPLAIN [ANALYZE] [(options)] statement`
    Explain {
        /// Whether to run the statement and show measurements.
        analyze: bool,
        /// `TYPE LOGICAL|DISTRIBUTED|IO|VALIDATE`, upper-cased.
        explain_type: Option<String>,
        /// `FORMAT TEXT|JSON|GRAPHVIZ`, upper-cased.
        format: Option<String>,
        /// The statement explained.
        sql: String,
    },
    /// `CREATE TABLE name (columns)` with Trino types and comments.
    CreateTable(ddl::CreateTable),
    /// `CREATE TABLE name ... AS query` with `COMMENT`, `WITH (...)` or `WITH [NO] DATA`.
    CreateTableAs(ddl::CreateTableAs),
    /// `CREATE [OR REPLACE] VIEW`, keeping the query's text.
    CreateView(ddl::CreateView),
    /// `COMMENT ON TABLE|VIEW|COLUMN`.
    Comment(ddl::Comment),
    /// `ALTER TABLE|VIEW`.
    Alter(ddl::Alter),
    /// `SHOW CREATE TABLE|VIEW|SCHEMA name`.
    ShowCreate {
        /// What is shown.
        kind: ddl::ShowCreateKind,
        /// The name, as written.
        name: Vec<String>,
    },
    /// Anything else: SQL for DataFusion.
    Sql(String),
}

/// One argument of `CALL`: `value` or `name => value`; the value is a string literal or
/// `NULL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallArgument {
    /// The parameter's name, for a named argument (lower-cased unless quoted).
    pub name: Option<String>,
    /// The value; `None` for `NULL`.
    pub value: Option<String>,
}

/// What `SET ROLE` enables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSelection {
    /// `SET ROLE ALL`
    All,
    /// `SET ROLE NONE`
    None,
    /// `SET ROLE name`
    Role(String),
}

/// A `LIKE 'pattern' [ESCAPE 'c']` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Like {
    /// The pattern.
    pub pattern: String,
    /// The escape character.
    pub escape: Option<String>,
}

/// Recognises the statement in `sql` (one statement, a trailing `;` allowed).
pub fn parse(sql: &str) -> SqlResult<Statement> {
    let sql = strip_trailing_semicolon(sql);
    let mut t = Tokens::new(sql)?;
    if t.at_end() {
        return Err(TrinoError::new(
            ErrorCode::SYNTAX_ERROR,
            "SQL statement is empty",
        ));
    }
    if let Some(error) = unsupported::unsupported_statement(&mut t) {
        return Err(error);
    }
    let statement = if t.keyword("SHOW") {
        parse_show(&mut t)?
    } else if t.keyword("DESCRIBE") || t.keyword("DESC") {
        if t.keyword("OUTPUT") {
            let name = t.identifier()?;
            t.end()?;
            Statement::DescribeOutput { name }
        } else if t.keyword("INPUT") {
            let name = t.identifier()?;
            t.end()?;
            Statement::DescribeInput { name }
        } else {
            let table = t.qualified_name()?;
            t.end()?;
            Statement::ShowColumns { table }
        }
    } else if t.keyword("USE") {
        let mut parts = t.qualified_name()?;
        t.end()?;
        match parts.len() {
            1 => Statement::Use {
                catalog: None,
                schema: parts.remove(0),
            },
            2 => Statement::Use {
                schema: parts.remove(1),
                catalog: Some(parts.remove(0)),
            },
            _ => {
                return Err(TrinoError::new(
                    ErrorCode::SYNTAX_ERROR,
                    "USE takes [catalog.]schema",
                ));
            }
        }
    } else if t.keywords(&["SET", "SESSION"]) {
        let name = t.qualified_name()?.join(".");
        if t.peek() != Some(&Token::Eq) {
            return Err(t.error("'='"));
        }
        t.pos += 1;
        let value = match t.peek() {
            Some(Token::SingleQuotedString(s)) if t.tokens.len() == t.pos + 1 => s.clone(),
            Some(_) => t.rest().to_string(),
            None => return Err(t.error("<expression>")),
        };
        Statement::SetSession { name, value }
    } else if t.keywords(&["SET", "ROLE"]) {
        let role = if t.keyword("ALL") {
            RoleSelection::All
        } else if t.keyword("NONE") {
            RoleSelection::None
        } else {
            RoleSelection::Role(t.identifier()?)
        };
        let catalog = if t.keyword("IN") {
            Some(t.identifier()?)
        } else {
            None
        };
        t.end()?;
        Statement::SetRole { role, catalog }
    } else if t.keywords(&["SET", "TIME", "ZONE"]) {
        let zone = parse_time_zone(&mut t)?;
        t.end()?;
        Statement::SetTimeZone { zone }
    } else if t.keywords(&["SET", "PATH"]) {
        let mut elements = vec![t.qualified_name()?.join(".")];
        while t.peek() == Some(&Token::Comma) {
            t.pos += 1;
            elements.push(t.qualified_name()?.join("."));
        }
        t.end()?;
        Statement::SetPath {
            path: elements.join(", "),
        }
    } else if t.keyword("TABLE") {
        // `TABLE t [ORDER BY ...] [LIMIT ...]` is `SELECT * FROM t ...`.
        let from_name = t.rest();
        t.qualified_name()?;
        let tail = t.rest();
        let name = &from_name[..from_name.len() - tail.len()];
        Statement::Sql(format!("SELECT * FROM {name} {tail}"))
    } else if t.keyword("CALL") {
        parse_call(&mut t)?
    } else if t.keywords(&["RESET", "SESSION"]) {
        let name = t.qualified_name()?.join(".");
        t.end()?;
        Statement::ResetSession { name }
    } else if t.keyword("PREPARE") {
        let name = t.identifier()?;
        if !t.keyword("FROM") {
            return Err(t.error("'FROM'"));
        }
        let sql = t.rest().to_string();
        if sql.is_empty() {
            return Err(t.error("<statement>"));
        }
        Statement::Prepare { name, sql }
    } else if t.keyword("EXECUTE") {
        if t.keyword("IMMEDIATE") {
            let sql = t.string()?;
            let parameters = if t.keyword("USING") {
                t.expression_list()?
            } else {
                t.end()?;
                vec![]
            };
            Statement::ExecuteImmediate { sql, parameters }
        } else {
            let name = t.identifier()?;
            let parameters = if t.keyword("USING") {
                t.expression_list()?
            } else {
                t.end()?;
                vec![]
            };
            Statement::Execute { name, parameters }
        }
    } else if t.keywords(&["DEALLOCATE", "PREPARE"]) {
        let name = t.identifier()?;
        t.end()?;
        Statement::Deallocate { name }
    } else if t.keywords(&["START", "TRANSACTION"]) {
        parse_transaction_modes(&mut t)?;
        Statement::StartTransaction
    } else if t.keyword("COMMIT") {
        t.keyword("WORK");
        t.end()?;
        Statement::Commit
    } else if t.keyword("ROLLBACK") {
        t.keyword("WORK");
        t.end()?;
        Statement::Rollback
    } else if t.keyword("EXPLAIN") {
        parse_explain(&mut t)?
    } else if t.keyword("CREATE") {
        ddl::parse_create(&mut t)?.unwrap_or_else(|| Statement::Sql(sql.to_string()))
    } else if t.keywords(&["COMMENT", "ON"]) {
        ddl::parse_comment(&mut t)?
    } else if t.keyword("ALTER") {
        ddl::parse_alter(&mut t)?
    } else {
        Statement::Sql(sql.to_string())
    };
    Ok(statement)
}

/// The zone after `SET TIME ZONE`: `LOCAL` (`None`), a string, or an interval literal of
/// hours and minutes, which names a fixed offset (`+05:30`; `UTC` for zero).
fn parse_time_zone(t: &mut Tokens<'_>) -> SqlResult<Option<String>> {
    if t.keyword("LOCAL") {
        return Ok(None);
    }
    if let Some(Token::SingleQuotedString(zone)) = t.peek() {
        let zone = zone.clone();
        t.pos += 1;
        return Ok(Some(zone));
    }
    if !t.keyword("INTERVAL") {
        return Err(TrinoError::at(
            ErrorCode::NOT_SUPPORTED,
            "SET TIME ZONE takes LOCAL, a string literal or an interval literal",
            t.location(),
        ));
    }
    let negated = match t.peek() {
        Some(Token::Minus) => {
            t.pos += 1;
            true
        }
        Some(Token::Plus) => {
            t.pos += 1;
            false
        }
        _ => false,
    };
    let text = t.string()?;
    let invalid = |message: String| TrinoError::new(ErrorCode::INVALID_LITERAL, message);
    let (sign, digits) = match text.trim().strip_prefix('-') {
        Some(rest) => (-1, rest.to_string()),
        None => (1, text.trim().trim_start_matches('+').to_string()),
    };
    // Offsets past 14 hours are refused below, so larger numbers need not be read.
    let number = |part: &str, limit: i64| match part.trim().parse::<i64>() {
        Ok(n) if (0..=limit).contains(&n) => Ok(n),
        _ => Err(invalid(format!("Invalid INTERVAL value: '{text}'"))),
    };
    let minutes = if t.keyword("HOUR") {
        if t.keywords(&["TO", "MINUTE"]) {
            let Some((hours, minutes)) = digits.split_once(':') else {
                return Err(invalid(format!(
                    "Invalid INTERVAL HOUR TO MINUTE value: '{text}'"
                )));
            };
            number(hours, 99)? * 60 + number(minutes, 59)?
        } else {
            number(&digits, 99)? * 60
        }
    } else if t.keyword("MINUTE") {
        number(&digits, 99 * 60)?
    } else if t.keywords(&["DAY", "TO", "SECOND"]) || t.keyword("SECOND") {
        return Err(invalid(
            "Invalid time zone offset interval: interval contains seconds".into(),
        ));
    } else {
        return Err(t.error("'HOUR', 'MINUTE'"));
    };
    let minutes = if negated {
        -sign * minutes
    } else {
        sign * minutes
    };
    if minutes.abs() > 14 * 60 {
        return Err(invalid(format!(
            "Invalid offset minutes {minutes}: the offset must be between -14:00 and +14:00"
        )));
    }
    if minutes == 0 {
        return Ok(Some("UTC".into()));
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.abs();
    Ok(Some(format!(
        "{sign}{:02}:{:02}",
        minutes / 60,
        minutes % 60
    )))
}

/// `CALL name(arg, ...)` after `CALL`: positional or named (`name => value`) arguments,
/// each a string literal or `NULL`.
fn parse_call(t: &mut Tokens<'_>) -> SqlResult<Statement> {
    let procedure = t.qualified_name()?;
    if t.peek() != Some(&Token::LParen) {
        return Err(t.error("'('"));
    }
    t.pos += 1;
    let mut arguments = Vec::new();
    if t.peek() == Some(&Token::RParen) {
        t.pos += 1;
    } else {
        loop {
            let named = matches!(t.tokens.get(t.pos + 1), Some((Token::RArrow, _, _)));
            let name = if named {
                let name = t.identifier()?;
                t.pos += 1;
                Some(name)
            } else {
                None
            };
            let value = match t.peek() {
                Some(Token::SingleQuotedString(text)) => {
                    let text = text.clone();
                    t.pos += 1;
                    Some(text)
                }
                Some(Token::Word(w))
                    if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("NULL") =>
                {
                    t.pos += 1;
                    None
                }
                Some(_) => {
                    return Err(TrinoError::at(
                        ErrorCode::NOT_SUPPORTED,
                        "CALL arguments other than string literals and NULL are not supported",
                        t.location(),
                    ));
                }
                None => return Err(t.error("<expression>")),
            };
            arguments.push(CallArgument { name, value });
            if !t.list_continues()? {
                break;
            }
        }
    }
    t.end()?;
    Ok(Statement::Call {
        procedure,
        arguments,
    })
}

fn parse_show(t: &mut Tokens<'_>) -> SqlResult<Statement> {
    let statement = if t.keyword("CREATE") {
        return ddl::parse_show_create(t);
    } else if t.keyword("FUNCTIONS") {
        Statement::ShowFunctions { like: t.like()? }
    } else if t.keyword("STATS") {
        if !t.keyword("FOR") {
            return Err(t.error("'FOR'"));
        }
        if t.peek() == Some(&Token::LParen) {
            let text = t.rest().trim_end_matches(';').trim();
            let Some(query) = text.strip_prefix('(').and_then(|q| q.strip_suffix(')')) else {
                return Err(t.error("'(' <query> ')'"));
            };
            return Ok(Statement::ShowStats {
                source: StatsSource::Query(query.trim().to_string()),
            });
        }
        Statement::ShowStats {
            source: StatsSource::Table(t.qualified_name()?),
        }
    } else if t.keyword("CATALOGS") {
        Statement::ShowCatalogs { like: t.like()? }
    } else if t.keyword("SCHEMAS") {
        let catalog = if t.keyword("FROM") || t.keyword("IN") {
            Some(t.identifier()?)
        } else {
            None
        };
        Statement::ShowSchemas {
            catalog,
            like: t.like()?,
        }
    } else if t.keyword("TABLES") {
        let qualifier = if t.keyword("FROM") || t.keyword("IN") {
            let q = t.qualified_name()?;
            if q.len() > 2 {
                return Err(TrinoError::new(
                    ErrorCode::SYNTAX_ERROR,
                    format!("Too many parts in schema name: {}", q.join(".")),
                ));
            }
            q
        } else {
            vec![]
        };
        Statement::ShowTables {
            qualifier,
            like: t.like()?,
        }
    } else if t.keyword("COLUMNS") {
        if !(t.keyword("FROM") || t.keyword("IN")) {
            return Err(t.error("'FROM', 'IN'"));
        }
        Statement::ShowColumns {
            table: t.qualified_name()?,
        }
    } else if t.keyword("SESSION") {
        Statement::ShowSession { like: t.like()? }
    } else {
        return Ok(Statement::Sql(t.sql.to_string()));
    };
    t.end()?;
    Ok(statement)
}

/// `ISOLATION LEVEL ...`, `READ ONLY`, `READ WRITE`, comma-separated.
fn parse_transaction_modes(t: &mut Tokens<'_>) -> SqlResult<()> {
    while !t.at_end() {
        if t.keywords(&["ISOLATION", "LEVEL"]) {
            let ok = t.keywords(&["READ", "UNCOMMITTED"])
                || t.keywords(&["READ", "COMMITTED"])
                || t.keywords(&["REPEATABLE", "READ"])
                || t.keyword("SERIALIZABLE");
            if !ok {
                return Err(t.error("'READ', 'REPEATABLE', 'SERIALIZABLE'"));
            }
        } else if !(t.keywords(&["READ", "ONLY"]) || t.keywords(&["READ", "WRITE"])) {
            return Err(t.error("'ISOLATION', 'READ'"));
        }
        if t.peek() == Some(&Token::Comma) {
            t.pos += 1;
        }
    }
    Ok(())
}

fn parse_explain(t: &mut Tokens<'_>) -> SqlResult<Statement> {
    let analyze = t.keyword("ANALYZE");
    if analyze {
        t.keyword("VERBOSE");
    }
    let mut explain_type = None;
    let mut format = None;
    if t.peek() == Some(&Token::LParen) {
        t.pos += 1;
        loop {
            if t.keyword("TYPE") {
                explain_type = Some(t.identifier()?.to_ascii_uppercase());
            } else if t.keyword("FORMAT") {
                format = Some(t.identifier()?.to_ascii_uppercase());
            } else {
                return Err(t.error("'TYPE', 'FORMAT'"));
            }
            if !t.list_continues()? {
                break;
            }
        }
    }
    let sql = t.rest().to_string();
    if sql.is_empty() {
        return Err(t.error("<statement>"));
    }
    Ok(Statement::Explain {
        analyze,
        explain_type,
        format,
        sql,
    })
}

fn strip_trailing_semicolon(sql: &str) -> &str {
    let trimmed = sql.trim();
    trimmed.strip_suffix(';').map_or(trimmed, str::trim_end)
}

/// Replaces the `?` parameter markers of `sql`, in order, with `parameters`.
pub fn bind_parameters(sql: &str, parameters: &[String]) -> SqlResult<String> {
    let t = Tokens::new(sql)?;
    let markers: Vec<usize> = t
        .tokens
        .iter()
        .filter(|(token, _, _)| matches!(token, Token::Placeholder(p) if p == "?"))
        .map(|(_, offset, _)| *offset)
        .collect();
    if markers.len() != parameters.len() {
        return Err(TrinoError::new(
            ErrorCode::INVALID_PARAMETER_USAGE,
            format!(
                "Incorrect number of parameters: expected {} but found {}",
                markers.len(),
                parameters.len()
            ),
        ));
    }
    let mut out =
        String::with_capacity(sql.len() + parameters.iter().map(String::len).sum::<usize>());
    let mut last = 0;
    for (offset, parameter) in markers.iter().zip(parameters) {
        out.push_str(&sql[last..*offset]);
        out.push('(');
        out.push_str(parameter);
        out.push(')');
        last = offset + 1;
    }
    out.push_str(&sql[last..]);
    Ok(out)
}

/// How many `?` markers `sql` has.
pub fn parameter_count(sql: &str) -> SqlResult<usize> {
    let t = Tokens::new(sql)?;
    Ok(t.tokens
        .iter()
        .filter(|(token, _, _)| matches!(token, Token::Placeholder(p) if p == "?"))
        .count())
}
