//! The token reader statement recognition walks: tokens without whitespace and comments, with
//! their offsets and locations.

use super::*;

/// Tokens of a statement, without whitespace and comments, with their byte offsets.
pub(super) struct Tokens<'a> {
    pub(super) sql: &'a str,
    pub(super) tokens: Vec<(Token, usize, SqlLocation)>,
    pub(super) pos: usize,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(sql: &'a str) -> SqlResult<Self> {
        let dialect = GenericDialect {};
        let raw = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .map_err(|e| {
                let location = (e.location.line > 0).then_some(SqlLocation {
                    line: e.location.line as u32,
                    column: e.location.column as u32,
                });
                TrinoError::at(ErrorCode::SYNTAX_ERROR, e.message.clone(), location)
            })?;
        let offsets = LineOffsets::new(sql);
        let tokens = raw
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .map(|TokenWithSpan { token, span }| {
                let location = SqlLocation {
                    line: span.start.line as u32,
                    column: span.start.column as u32,
                };
                (token, offsets.offset(location), location)
            })
            .collect();
        Ok(Tokens {
            sql,
            tokens,
            pos: 0,
        })
    }

    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _, _)| t)
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    pub(super) fn location(&self) -> Option<SqlLocation> {
        self.tokens.get(self.pos).map(|(_, _, l)| *l)
    }

    /// The source text from the current token to the end.
    pub(super) fn rest(&self) -> &'a str {
        match self.tokens.get(self.pos) {
            Some((_, offset, _)) => self.sql[*offset..].trim(),
            None => "",
        }
    }

    pub(super) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
    }

    pub(super) fn keyword(&mut self, keyword: &str) -> bool {
        if self.is_keyword(keyword) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn keywords(&mut self, keywords: &[&str]) -> bool {
        let start = self.pos;
        for k in keywords {
            if !self.keyword(k) {
                self.pos = start;
                return false;
            }
        }
        true
    }

    pub(super) fn error(&self, expected: &str) -> TrinoError {
        let found = match self.peek() {
            Some(token) => format!("'{token}'"),
            None => "end of input".to_string(),
        };
        let location = self
            .location()
            .or_else(|| Some(SqlLocation::of_offset(self.sql, self.sql.trim_end().len())));
        TrinoError::at(
            ErrorCode::SYNTAX_ERROR,
            format!("mismatched input {found}. Expecting: {expected}"),
            location,
        )
    }

    pub(super) fn identifier(&mut self) -> SqlResult<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let name = if w.quote_style.is_some() {
                    w.value.clone()
                } else {
                    w.value.to_lowercase()
                };
                self.pos += 1;
                Ok(name)
            }
            _ => Err(self.error("<identifier>")),
        }
    }

    pub(super) fn qualified_name(&mut self) -> SqlResult<Vec<String>> {
        let mut parts = vec![self.identifier()?];
        while self.peek() == Some(&Token::Period) {
            self.pos += 1;
            parts.push(self.identifier()?);
        }
        Ok(parts)
    }

    pub(super) fn string(&mut self) -> SqlResult<String> {
        match self.peek() {
            Some(Token::SingleQuotedString(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.error("<string>")),
        }
    }

    pub(super) fn like(&mut self) -> SqlResult<Option<Like>> {
        if !self.keyword("LIKE") {
            return Ok(None);
        }
        let pattern = self.string()?;
        let escape = if self.keyword("ESCAPE") {
            Some(self.string()?)
        } else {
            None
        };
        Ok(Some(Like { pattern, escape }))
    }

    /// After an item of a parenthesized list: consumes `,` (true: another item follows) or `)`
    /// (false: the list ended).
    pub(super) fn list_continues(&mut self) -> SqlResult<bool> {
        let more = match self.peek() {
            Some(Token::Comma) => true,
            Some(Token::RParen) => false,
            _ => return Err(self.error("',', ')'")),
        };
        self.pos += 1;
        Ok(more)
    }

    pub(super) fn end(&self) -> SqlResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("<EOF>"))
        }
    }

    /// Comma-separated expressions up to the end, as source text.
    pub(super) fn expression_list(&mut self) -> SqlResult<Vec<String>> {
        let mut items = Vec::new();
        let mut depth = 0i32;
        let mut start = self.tokens.get(self.pos).map(|(_, o, _)| *o);
        while let Some((token, offset, _)) = self.tokens.get(self.pos) {
            match token {
                Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                Token::RParen | Token::RBracket | Token::RBrace => depth -= 1,
                Token::Comma if depth == 0 => {
                    let begin = start.unwrap_or(*offset);
                    items.push(self.sql[begin..*offset].trim().to_string());
                    start = None;
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            if start.is_none() {
                start = Some(*offset);
            }
            self.pos += 1;
        }
        match start {
            Some(begin) => items.push(self.sql[begin..].trim().to_string()),
            None => return Err(self.error("<expression>")),
        }
        if items.iter().any(String::is_empty) {
            return Err(self.error("<expression>"));
        }
        Ok(items)
    }
}

/// Byte offsets of line starts, to turn token locations into offsets.
pub(crate) struct LineOffsets<'a> {
    pub(super) sql: &'a str,
    pub(super) starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    pub(crate) fn new(sql: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { sql, starts }
    }

    pub(crate) fn offset(&self, location: SqlLocation) -> usize {
        let line_start = self
            .starts
            .get((location.line.max(1) - 1) as usize)
            .copied()
            .unwrap_or(self.sql.len());
        let line = &self.sql[line_start..];
        let column = (location.column.max(1) - 1) as usize;
        line_start
            + line
                .char_indices()
                .nth(column)
                .map_or(line.len(), |(i, _)| i)
    }
}
