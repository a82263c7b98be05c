//! Splitting input into statements: each ends in `;` or `\G` (vertical output), outside
//! quotes and comments.

/// How a statement was terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// `;`: the chosen output format.
    Semicolon,
    /// `\G`: VERTICAL output.
    Vertical,
}

/// A complete statement, without its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL text, trimmed.
    pub sql: String,
    /// How it ended.
    pub terminator: Terminator,
}

/// The complete statements of `text` and the unfinished rest (trimmed; empty when nothing
/// is pending). Empty statements (`;;`) are dropped.
pub fn split(text: &str) -> (Vec<Statement>, String) {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut state = State::Code;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        match state {
            State::Code => match (c, next) {
                ('\'', _) => state = State::Quoted('\''),
                ('"', _) => state = State::Quoted('"'),
                ('`', _) => state = State::Quoted('`'),
                ('-', Some('-')) => state = State::LineComment,
                ('/', Some('*')) => {
                    state = State::BlockComment;
                    i += 1;
                }
                (';', _) | ('\\', Some('G')) => {
                    let terminator = if c == ';' {
                        Terminator::Semicolon
                    } else {
                        i += 1;
                        Terminator::Vertical
                    };
                    let sql = text[start..at].trim();
                    if !is_blank(sql) {
                        statements.push(Statement {
                            sql: sql.to_string(),
                            terminator,
                        });
                    }
                    start = chars.get(i + 1).map_or(text.len(), |&(at, _)| at);
                }
                _ => {}
            },
            State::Quoted(quote) => {
                if c == quote {
                    if next == Some(quote) {
                        i += 1;
                    } else {
                        state = State::Code;
                    }
                }
            }
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::BlockComment => {
                if c == '*' && next == Some('/') {
                    state = State::Code;
                    i += 1;
                }
            }
        }
        i += 1;
    }
    let rest = text[start..].trim();
    let rest = if is_blank(rest) { "" } else { rest };
    (statements, rest.to_string())
}

/// Whether `sql` holds nothing but white space and comments.
pub fn is_blank(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            match after.split_once("*/") {
                Some((_, tail)) => rest = tail.trim_start(),
                None => return false,
            }
        } else {
            return rest.is_empty();
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Code,
    Quoted(char),
    LineComment,
    BlockComment,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(text: &str) -> (Vec<String>, String) {
        let (statements, rest) = split(text);
        (statements.into_iter().map(|s| s.sql).collect(), rest)
    }

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let (done, rest) = sqls("SELECT ';' AS a; SELECT \"x;y\" -- c;\n FROM t; SELECT");
        assert_eq!(
            done,
            vec!["SELECT ';' AS a", "SELECT \"x;y\" -- c;\n FROM t"]
        );
        assert_eq!(rest, "SELECT");
        let (done, rest) = sqls("SELECT 'it''s;' /* ; */;;\n");
        assert_eq!(done, vec!["SELECT 'it''s;' /* ; */"]);
        assert_eq!(rest, "");
    }

    #[test]
    fn backslash_g_ends_a_vertical_statement() {
        let (statements, rest) = split("SELECT 1\\G SELECT 2;");
        assert_eq!(statements[0].terminator, Terminator::Vertical);
        assert_eq!(statements[0].sql, "SELECT 1");
        assert_eq!(statements[1].terminator, Terminator::Semicolon);
        assert_eq!(rest, "");
    }

    #[test]
    fn unterminated_text_and_comments_stay_pending_or_vanish() {
        assert_eq!(sqls("SELECT 'a;\nb"), (vec![], "SELECT 'a;\nb".to_string()));
        assert_eq!(sqls("-- only a comment\n"), (vec![], String::new()));
        assert_eq!(sqls("/* open"), (vec![], "/* open".to_string()));
        assert_eq!(
            sqls("SELECT 'é';"),
            (vec!["SELECT 'é'".to_string()], String::new())
        );
    }
}
