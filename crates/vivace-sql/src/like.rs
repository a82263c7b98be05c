//! SQL `LIKE` matching for names that are listed without DataFusion (`SHOW SESSION`,
//! `SHOW FUNCTIONS`, ...).

/// A compiled `LIKE` pattern: `%` matches any run of characters, `_` one character, and the
/// escape character makes the next one literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LikeMatcher {
    pattern: Vec<LikeToken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LikeToken {
    Any,
    One,
    Char(char),
}

impl LikeMatcher {
    /// Compiles `pattern`; only the first character of `escape` counts.
    pub fn new(pattern: &str, escape: Option<&str>) -> Self {
        let escape = escape.and_then(|e| e.chars().next());
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if Some(c) == escape {
                if let Some(next) = chars.next() {
                    tokens.push(LikeToken::Char(next));
                }
            } else if c == '%' {
                // `%%` matches what `%` matches.
                if tokens.last() != Some(&LikeToken::Any) {
                    tokens.push(LikeToken::Any);
                }
            } else if c == '_' {
                tokens.push(LikeToken::One);
            } else {
                tokens.push(LikeToken::Char(c));
            }
        }
        LikeMatcher { pattern: tokens }
    }

    /// Whether the whole of `text` matches. Runs in time proportional to the pattern's length
    /// times the text's, whatever the pattern: after a mismatch it resumes from the last `%`
    /// only, never from every earlier one.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let pattern = &self.pattern;
        let (mut p, mut t) = (0, 0);
        // The pattern position after the last `%` seen, and the text position it was tried at.
        let mut resume: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some(LikeToken::Any) => {
                    p += 1;
                    resume = Some((p, t));
                    continue;
                }
                Some(LikeToken::One) => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Some(LikeToken::Char(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
            match resume {
                Some((after_any, tried_at)) => {
                    p = after_any;
                    t = tried_at + 1;
                    resume = Some((after_any, tried_at + 1));
                }
                None => return false,
            }
        }
        pattern[p..].iter().all(|token| *token == LikeToken::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matching() {
        let m = LikeMatcher::new("query%", None);
        assert!(m.matches("query_max_run_time"));
        assert!(!m.matches("task_concurrency"));
        let m = LikeMatcher::new("a\\_b", Some("\\"));
        assert!(m.matches("a_b"));
        assert!(!m.matches("axb"));
        assert!(LikeMatcher::new("%", None).matches(""));
        assert!(LikeMatcher::new("%a%b_", None).matches("xxaybbz"));
        assert!(!LikeMatcher::new("%a%b_", None).matches("xxayb"));
        assert!(LikeMatcher::new("_%_", None).matches("ab"));
        assert!(!LikeMatcher::new("_%_", None).matches("a"));
        assert!(!LikeMatcher::new("", None).matches("a"));
        assert!(LikeMatcher::new("a%%b", None).matches("ab"));
    }

    #[test]
    fn many_wildcards_do_not_backtrack_exponentially() {
        let pattern = "%a".repeat(200) + "b";
        let text = "a".repeat(5_000);
        assert!(!LikeMatcher::new(&pattern, None).matches(&text));
    }
}
