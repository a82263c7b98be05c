//! The front end's typed output for SQL that the planner runs: one statement, its Trino-only
//! syntax rewritten on tokens ([`crate::trino_sql`]), parsed with [`TrinoDialect`] under the
//! recursion limit, checked for what Trino refuses, and rewritten to Trino's semantics
//! ([`crate::rewrite`]). The engine plans the AST it gets; nothing parses the text again.

use sqlparser::ast::Statement as SqlStatement;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};
use vivace_common::ErrorCode;

use crate::dialect::TrinoDialect;
use crate::rewrite::{self, Relations};
use crate::{SqlLocation, SqlResult, TrinoError, trino_sql};

/// One parsed, checked and rewritten statement.
#[derive(Debug)]
pub struct ParsedSql {
    /// The statement, rewritten to Trino's semantics.
    pub statement: SqlStatement,
    /// The relations it names, with their positions, for name checks.
    pub relations: Relations,
    /// For a query, whether each output column was given an alias (`DESCRIBE OUTPUT`).
    pub aliased: Option<Vec<bool>>,
}

/// Parses `sql` (text that [`crate::statement::parse`] left to the planner) into one statement;
/// `recursion_limit` bounds the parser's descent ([`crate::SqlLimits::parser_recursion_limit`]).
pub fn parse_sql(sql: &str, recursion_limit: usize) -> SqlResult<ParsedSql> {
    let rewritten = trino_sql::rewrite(sql);
    let mut statements = match parse_statements(&rewritten, recursion_limit) {
        Ok(statements) => statements,
        Err(error) => {
            return Err(match trino_sql::unsupported_syntax(sql) {
                Some(what) => TrinoError::new(ErrorCode::NOT_SUPPORTED, what),
                None => error,
            });
        }
    };
    let mut statement = match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) => statement,
        (None, _) => {
            return Err(TrinoError::new(
                ErrorCode::SYNTAX_ERROR,
                "SQL statement is empty",
            ));
        }
        (Some(_), false) => {
            return Err(TrinoError::new(
                ErrorCode::SYNTAX_ERROR,
                "Only one statement can be run at a time",
            ));
        }
    };
    let relations = rewrite::inspect_statement(&statement)?;
    let aliased = rewrite::aliased_columns(&statement);
    rewrite::rewrite_statement(&mut statement)?;
    Ok(ParsedSql {
        statement,
        relations,
        aliased,
    })
}

/// Checks that `sql` parses, without rewriting it to Trino's semantics (`PREPARE`).
pub fn check_syntax(sql: &str, recursion_limit: usize) -> SqlResult<()> {
    parse_statements(&trino_sql::rewrite(sql), recursion_limit).map_err(|error| {
        match trino_sql::unsupported_syntax(sql) {
            Some(what) => TrinoError::new(ErrorCode::NOT_SUPPORTED, what),
            None => error,
        }
    })?;
    Ok(())
}

/// The statements of `sql`, separated by semicolons (empty ones skipped).
fn parse_statements(sql: &str, recursion_limit: usize) -> SqlResult<Vec<SqlStatement>> {
    let tokens = Tokenizer::new(&TrinoDialect, sql)
        .tokenize_with_location()
        .map_err(|e| syntax_error(&ParserError::from(e)))?;
    let mut parser = Parser::new(&TrinoDialect)
        .with_tokens_with_locations(tokens)
        .with_recursion_limit(recursion_limit);
    let mut statements = Vec::new();
    let mut expecting_delimiter = false;
    loop {
        while parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        if parser.peek_token() == Token::EOF {
            break;
        }
        if expecting_delimiter {
            let found = parser.peek_token();
            return Err(syntax_error(&ParserError::ParserError(format!(
                "Expected: end of statement, found: {found}{}",
                found.span.start
            ))));
        }
        refuse_external_storage(&parser)?;
        statements.push(parser.parse_statement().map_err(|e| syntax_error(&e))?);
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// `CREATE [OR REPLACE] [UNBOUNDED] EXTERNAL TABLE` and `COPY ... TO` would read or write
/// arbitrary server paths: catalogs are the only way to storage.
fn refuse_external_storage(parser: &Parser<'_>) -> SqlResult<()> {
    let keyword = |n: usize| match parser.peek_nth_token(n).token {
        Token::Word(word) => word.keyword,
        _ => Keyword::NoKeyword,
    };
    let external = match keyword(0) {
        Keyword::CREATE => {
            let mut at = 1;
            if keyword(1) == Keyword::OR && keyword(2) == Keyword::REPLACE {
                at = 3;
            }
            if keyword(at) == Keyword::UNBOUNDED {
                at += 1;
            }
            keyword(at) == Keyword::EXTERNAL
        }
        Keyword::COPY => keyword(1) != Keyword::INTO,
        _ => false,
    };
    if external {
        return Err(TrinoError::new(
            ErrorCode::NOT_SUPPORTED,
            "CREATE EXTERNAL TABLE and COPY are not supported; use a filesystem catalog",
        ));
    }
    Ok(())
}

/// A parser error as Trino's `SYNTAX_ERROR`, its position moved from the text to the location.
fn syntax_error(error: &ParserError) -> TrinoError {
    let (message, location) = split_location(&error.to_string());
    TrinoError::at(ErrorCode::SYNTAX_ERROR, message, location)
}

/// Splits sqlparser's `sql parser error: ... at Line: L, Column: C` into the message and the
/// location.
pub fn split_location(text: &str) -> (String, Option<SqlLocation>) {
    let text = text.strip_prefix("sql parser error: ").unwrap_or(text);
    if let Some(at) = text.rfind(" at Line: ") {
        let tail = &text[at + " at Line: ".len()..];
        let mut parts = tail.split(", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse::<u32>().ok());
        let column = parts
            .next()
            .and_then(|c| c.trim().trim_end_matches('.').parse::<u32>().ok());
        if let (Some(line), Some(column)) = (line, column) {
            return (text[..at].to_string(), Some(SqlLocation { line, column }));
        }
    }
    (text.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 464;

    fn error(sql: &str) -> TrinoError {
        parse_sql(sql, LIMIT).expect_err(sql)
    }

    #[test]
    fn a_query_parses_to_its_rewritten_statement_with_relations_and_aliases() {
        let parsed = parse_sql("SELECT a AS x, b FROM t", LIMIT).expect("parses");
        assert!(matches!(parsed.statement, SqlStatement::Query(_)));
        assert_eq!(parsed.aliased, Some(vec![true, false]));
        assert_eq!(parsed.relations.locations.len(), 1);
        assert_eq!(parsed.relations.locations[0].0, vec!["t".to_string()]);
    }

    #[test]
    fn syntax_errors_carry_their_location_and_count_statements() {
        let e = error("SELECT 1\n  x y");
        assert_eq!(e.code, ErrorCode::SYNTAX_ERROR);
        assert_eq!(e.message, "Expected: end of statement, found: y");
        assert_eq!(e.location, Some(SqlLocation { line: 2, column: 5 }));
        assert_eq!(
            error("SELECT 1; SELECT 2").message,
            "Only one statement can be run at a time"
        );
        assert_eq!(error(" ; ").message, "SQL statement is empty");
        assert_eq!(error("SELECT 'open").code, ErrorCode::SYNTAX_ERROR);
    }

    #[test]
    fn external_tables_and_copy_are_refused_but_copy_into_is_left_to_the_parser() {
        for sql in [
            "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '/etc'",
            "CREATE OR REPLACE UNBOUNDED EXTERNAL TABLE t STORED AS CSV LOCATION '/'",
            "COPY t TO '/tmp/out.csv'",
        ] {
            assert_eq!(error(sql).code, ErrorCode::NOT_SUPPORTED, "{sql}");
        }
        let copy_into = parse_sql("COPY INTO t FROM 'x'", LIMIT)
            .err()
            .map(|e| e.code);
        assert_ne!(copy_into, Some(ErrorCode::NOT_SUPPORTED));
    }

    #[test]
    fn the_recursion_limit_fails_the_statement() {
        let deep = "SELECT ".to_string() + &"(".repeat(40) + "1" + &")".repeat(40);
        assert!(parse_sql(&deep, LIMIT).is_ok());
        assert_eq!(
            parse_sql(&deep, 20).expect_err("deep").code,
            ErrorCode::SYNTAX_ERROR
        );
    }
}
