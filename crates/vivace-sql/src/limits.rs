//! Bounds on a statement's text, checked before any recursive code (our token rewrites, the
//! parser, DataFusion's planner) sees it: its length (`query.max-length`), how deeply its
//! expressions can nest (`query.max-expression-depth`), how deeply brackets, `CASE` and calls
//! nest (`query.max-nesting-depth`), and how deeply subqueries nest inside expressions
//! (`query.max-subquery-depth`).
//!
//! The measures are upper bounds read from the token stream without recursion: every bracket
//! (`(`, `[`) and every `CASE ... END` opens a level, and each operator of a chain such as
//! `1 + 1 + ... + 1` or `a OR b OR ...` adds one to the expression depth, since the parser
//! builds such chains as left-deep trees whose depth is the chain's length. DataFusion clones,
//! rewrites and drops those trees recursively, and its planning time grows with the square of
//! a chain's length, the cube of a nesting's depth and exponentially with the nesting of
//! subqueries in expressions (each inside steps a cancel cannot interrupt), so the limits keep
//! every statement's planning short and its recursion far from the stack's end.

use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};
use vivace_common::ErrorCode;

use crate::{SqlResult, TrinoError};

/// `query.max-length`'s default, as in Trino.
pub const DEFAULT_MAX_LENGTH: usize = 1_000_000;
/// `query.max-length`'s largest accepted value, as in Trino.
pub const MAX_MAX_LENGTH: usize = 1_000_000_000;
/// `query.max-expression-depth`'s default (planning such a chain takes about a second).
pub const DEFAULT_MAX_EXPRESSION_DEPTH: usize = 1_000;
/// `query.max-expression-depth`'s largest accepted value (about 25 s of planning).
pub const MAX_EXPRESSION_DEPTH: usize = 5_000;
/// `query.max-nesting-depth`'s default.
pub const DEFAULT_MAX_NESTING_DEPTH: usize = 100;
/// `query.max-nesting-depth`'s largest accepted value.
pub const MAX_NESTING_DEPTH: usize = 300;
/// `query.max-subquery-depth`'s default.
pub const DEFAULT_MAX_SUBQUERY_DEPTH: usize = 10;
/// `query.max-subquery-depth`'s largest accepted value (planning doubles with each level:
/// about half a second at 16).
pub const MAX_SUBQUERY_DEPTH: usize = 16;
/// The stack of every thread that parses, plans or runs a query: DataFusion walks expression
/// trees recursively (cloning, rewriting, dropping them); a tree twice as deep as
/// [`MAX_EXPRESSION_DEPTH`] fits. Untouched stack pages cost no memory.
pub const QUERY_THREAD_STACK_SIZE: usize = 256 << 20;
/// The stack a recursive step may still need: a function marked `#[recursive::recursive]`
/// (ours, DataFusion's and sqlparser's) that finds less than this left continues on a new
/// segment. Generous, because the frames between two marked calls can be large.
pub const STACK_RED_ZONE: usize = 1 << 20;
/// The size of each stack segment allocated on the heap when the red zone is reached.
pub const STACK_SEGMENT_SIZE: usize = 16 << 20;

/// Installs the process-wide stack guard; call once at startup, before any query runs.
///
/// Rust cannot turn a stack overflow into an error after it happened, so the guard works
/// before: the recursive walks marked `#[recursive::recursive]` (our own over types, values,
/// ASTs and plans, sqlparser's parser and visitors, DataFusion's tree walks) grow their stack
/// on the heap instead of running off its end. The real protection stays the depth limits
/// above, checked before anything recursive runs, and the large query stacks: recursion the
/// guard does not mark (derived `Clone`, `Drop` and `Display` of deep trees, serde_json's
/// parser, which stops at 128 levels) needs them.
pub fn install_stack_guard() {
    recursive::set_minimum_stack_size(STACK_RED_ZONE);
    recursive::set_stack_allocation_size(STACK_SEGMENT_SIZE);
}

/// The text limits of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// `query.max-length`: characters in a statement.
    pub max_length: usize,
    /// `query.max-expression-depth`: how deeply a statement's expressions may nest, operator
    /// chains included.
    pub max_expression_depth: usize,
    /// `query.max-nesting-depth`: how deeply brackets, calls and `CASE` may nest.
    pub max_nesting_depth: usize,
    /// `query.max-subquery-depth`: how deeply subqueries may nest inside expressions.
    pub max_subquery_depth: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            max_length: DEFAULT_MAX_LENGTH,
            max_expression_depth: DEFAULT_MAX_EXPRESSION_DEPTH,
            max_nesting_depth: DEFAULT_MAX_NESTING_DEPTH,
            max_subquery_depth: DEFAULT_MAX_SUBQUERY_DEPTH,
        }
    }
}

impl SqlLimits {
    /// The recursion limit for sqlparser: above what any statement within
    /// `max_nesting_depth` needs (a nesting level takes a few parser frames), so the parser
    /// never fails on it. A statement failing there deep down is re-parsed by sqlparser's
    /// fallbacks at every level above, which takes time exponential in the depth.
    pub fn parser_recursion_limit(&self) -> usize {
        self.max_nesting_depth.saturating_mul(4).saturating_add(64)
    }

    /// Checks `sql` against the limits.
    pub fn check(&self, sql: &str) -> SqlResult<()> {
        let length = sql.chars().count();
        if length > self.max_length {
            return Err(TrinoError::new(
                ErrorCode::QUERY_TEXT_TOO_LARGE,
                format!(
                    "Query text length ({length}) exceeds the maximum length ({})",
                    self.max_length
                ),
            ));
        }
        let measured = measure(sql, self);
        let exceeded = [
            (
                measured.depth,
                self.max_expression_depth,
                "expressions nest",
                "query.max-expression-depth",
            ),
            (
                measured.nesting,
                self.max_nesting_depth,
                "brackets, calls and CASE nest",
                "query.max-nesting-depth",
            ),
            (
                measured.subqueries,
                self.max_subquery_depth,
                "subqueries nest",
                "query.max-subquery-depth",
            ),
        ];
        for (value, limit, what, property) in exceeded {
            if value > limit {
                return Err(TrinoError::new(
                    ErrorCode::STACK_OVERFLOW,
                    format!(
                        "statement is too large: its {what} more than {limit} levels deep ({property})"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// What [`measure`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Measures {
    depth: usize,
    nesting: usize,
    subqueries: usize,
}

/// One open bracket or `CASE` while reading tokens.
#[derive(Debug, Default)]
struct Level {
    /// Deepest comma- or clause-separated part seen so far at this level.
    deepest: usize,
    /// Operators in the current part.
    operators: usize,
    /// Deepest level nested in the current part.
    nested: usize,
    /// Whether a `CASE` opened this level (so `END` closes it).
    case: bool,
    /// Whether the level reads tables (`FROM`, `JOIN`), where a subquery is a derived table.
    tables: bool,
    /// Whether a subquery inside an expression opened this level.
    subquery: bool,
}

impl Level {
    fn end_part(&mut self) {
        self.deepest = self.deepest.max(self.operators + self.nested);
        self.operators = 0;
        self.nested = 0;
    }

    fn depth(mut self) -> usize {
        self.end_part();
        self.deepest + 1
    }
}

/// Upper bounds on `sql`'s depths; reading stops once one passes its limit. Text that does
/// not tokenize measures 0: the parser reports it.
fn measure(sql: &str, limits: &SqlLimits) -> Measures {
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        return Measures::default();
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut levels = vec![Level::default()];
    let mut subqueries = 0usize;
    let mut most = Measures::default();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                let parent_tables = levels.last().is_some_and(|l| l.tables);
                let query_follows = matches!(
                    tokens.get(index + 1),
                    Some(Token::Word(w)) if w.quote_style.is_none()
                        && matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES)
                );
                let subquery = query_follows && !parent_tables;
                subqueries += usize::from(subquery);
                levels.push(Level {
                    tables: parent_tables && !query_follows,
                    subquery,
                    ..Level::default()
                });
            }
            Token::Word(word) if word.quote_style.is_none() && word.keyword == Keyword::CASE => {
                levels.push(Level {
                    case: true,
                    ..Level::default()
                })
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                subqueries -= usize::from(close(&mut levels, false));
            }
            Token::Word(word) if word.quote_style.is_none() && word.keyword == Keyword::END => {
                subqueries -= usize::from(close(&mut levels, true));
            }
            Token::Comma | Token::SemiColon => {
                if let Some(level) = levels.last_mut() {
                    level.end_part();
                }
            }
            Token::Word(word) if word.quote_style.is_none() => {
                if let Some(level) = levels.last_mut() {
                    if is_operator_keyword(word.keyword) {
                        level.operators += 1;
                    } else if word.keyword != Keyword::NoKeyword {
                        level.end_part();
                        match word.keyword {
                            Keyword::FROM | Keyword::JOIN => level.tables = true,
                            Keyword::SELECT
                            | Keyword::WHERE
                            | Keyword::ON
                            | Keyword::GROUP
                            | Keyword::HAVING
                            | Keyword::ORDER
                            | Keyword::LIMIT
                            | Keyword::QUALIFY
                            | Keyword::WINDOW => level.tables = false,
                            _ => {}
                        }
                    }
                }
            }
            other if is_operator(other) => {
                if let Some(level) = levels.last_mut() {
                    level.operators += 1;
                }
            }
            _ => {}
        }
        let open = levels.len().saturating_sub(1);
        let chain = levels.last().map_or(0, |l| l.operators);
        most.nesting = most.nesting.max(open);
        most.subqueries = most.subqueries.max(subqueries);
        most.depth = most.depth.max(open + chain);
        if most.nesting > limits.max_nesting_depth
            || most.subqueries > limits.max_subquery_depth
            || most.depth > limits.max_expression_depth
        {
            return most;
        }
    }
    while levels.len() > 1 {
        close(&mut levels, false);
    }
    let root = levels.pop().map_or(0, |level| level.depth() - 1);
    most.depth = most.depth.max(root);
    most
}

/// Closes the innermost level (a `CASE` one only for `END`), folding its depth into its
/// parent; returns whether it was an expression's subquery.
fn close(levels: &mut Vec<Level>, end_keyword: bool) -> bool {
    if levels.len() < 2 {
        return false;
    }
    if end_keyword && !levels.last().is_some_and(|l| l.case) {
        return false;
    }
    let Some(level) = levels.pop() else {
        return false;
    };
    let subquery = level.subquery;
    let depth = level.depth();
    if let Some(parent) = levels.last_mut() {
        parent.nested = parent.nested.max(depth);
    }
    subquery
}

fn is_operator_keyword(keyword: Keyword) -> bool {
    matches!(
        keyword,
        Keyword::AND
            | Keyword::OR
            | Keyword::NOT
            | Keyword::IS
            | Keyword::IN
            | Keyword::LIKE
            | Keyword::ILIKE
            | Keyword::SIMILAR
            | Keyword::BETWEEN
            | Keyword::AT
            | Keyword::COLLATE
            | Keyword::ESCAPE
            | Keyword::OVERLAPS
            | Keyword::DIV
    )
}

fn is_operator(token: &Token) -> bool {
    !matches!(
        token,
        Token::EOF
            | Token::Word(_)
            | Token::Number(..)
            | Token::Char(_)
            | Token::Whitespace(_)
            | Token::Comma
            | Token::SemiColon
            | Token::LParen
            | Token::RParen
            | Token::LBracket
            | Token::RBracket
            | Token::LBrace
            | Token::RBrace
            | Token::Placeholder(_)
    ) && !is_literal(token)
}

fn is_literal(token: &Token) -> bool {
    matches!(
        token,
        Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unlimited() -> SqlLimits {
        SqlLimits {
            max_length: usize::MAX,
            max_expression_depth: usize::MAX,
            max_nesting_depth: usize::MAX,
            max_subquery_depth: usize::MAX,
        }
    }

    fn measured(sql: &str) -> Measures {
        measure(sql, &unlimited())
    }

    fn chain(op: &str, terms: usize) -> String {
        format!("SELECT {}", vec!["1"; terms].join(op))
    }

    #[test]
    fn ordinary_statements_are_shallow() {
        let m = measured("SELECT a, b + 1, f(c, d) FROM t WHERE x = 1 AND y > 2");
        assert!(m.depth <= 4 && m.nesting == 1 && m.subqueries == 0, "{m:?}");
        assert!(measured(&format!("SELECT {}", vec!["a + b"; 500].join(", "))).depth <= 2);
        let in_list = format!(
            "SELECT * FROM t WHERE x IN ({})",
            vec!["1"; 10_000].join(", ")
        );
        assert!(measured(&in_list).depth <= 4);
        let derived = format!(
            "SELECT * FROM {}SELECT 1 AS x{}",
            "(SELECT * FROM ".repeat(30),
            ") AS t".repeat(30)
        );
        assert_eq!(measured(&derived).subqueries, 0);
    }

    #[test]
    fn chains_and_nesting_count() {
        assert!(measured(&chain(" + ", 2_000)).depth >= 1_999);
        assert!(measured(&chain(" || ", 2_000)).depth >= 1_999);
        let or = format!("SELECT {}", vec!["x = 1"; 2_000].join(" OR "));
        assert!(measured(&or).depth >= 1_999);
        let nested = format!("SELECT {}1{}", "(".repeat(300), ")".repeat(300));
        assert!(measured(&nested).nesting >= 300);
        let cases = format!(
            "SELECT {} 1 {}",
            "CASE WHEN a THEN ".repeat(300),
            " END".repeat(300)
        );
        assert!(measured(&cases).nesting >= 300);
        let arrays = format!("SELECT {}1{}", "ARRAY[".repeat(300), "]".repeat(300));
        assert!(measured(&arrays).nesting >= 300);
        let scalar = format!("SELECT {}1{}", "(SELECT ".repeat(20), ")".repeat(20));
        assert_eq!(measured(&scalar).subqueries, 20);
        let listed = format!("SELECT {}1{}", "1, (SELECT ".repeat(20), ")".repeat(20));
        assert_eq!(measured(&listed).subqueries, 20);
        let filtered = format!(
            "SELECT 1 FROM t WHERE {}1{}",
            "x IN (SELECT y FROM u WHERE ".repeat(20),
            ")".repeat(20)
        );
        assert_eq!(measured(&filtered).subqueries, 20);
        // Unbalanced text still counts what it opened.
        assert!(measured(&format!("SELECT {}", "(".repeat(300))).nesting >= 300);
    }

    #[test]
    fn limits_fail_with_trino_codes() {
        let limits = SqlLimits {
            max_length: 100,
            max_expression_depth: 50,
            max_nesting_depth: 20,
            max_subquery_depth: 3,
        };
        let long = format!("SELECT '{}'", "x".repeat(200));
        let error = limits.check(&long).unwrap_err();
        assert_eq!(error.code, ErrorCode::QUERY_TEXT_TOO_LARGE);
        assert_eq!(
            error.message,
            "Query text length (209) exceeds the maximum length (100)"
        );
        for (sql, property) in [
            (chain("+", 60), "query.max-expression-depth"),
            (
                format!("SELECT {}1{}", "(".repeat(25), ")".repeat(25)),
                "query.max-nesting-depth",
            ),
            (
                format!("SELECT {}1{}", "(SELECT ".repeat(4), ")".repeat(4)),
                "query.max-subquery-depth",
            ),
        ] {
            let limits = SqlLimits {
                max_length: 1_000,
                ..limits
            };
            let error = limits.check(&sql).unwrap_err();
            assert_eq!(error.code, ErrorCode::STACK_OVERFLOW);
            assert!(error.message.contains(property), "{}", error.message);
        }
        assert!(limits.check(&chain("+", 40)).is_ok());
    }
}
