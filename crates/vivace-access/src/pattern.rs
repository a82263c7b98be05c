//! Rule patterns: regular expressions that must match a whole name, as Java's
//! `Matcher.matches()` does in Trino, optionally with the `{user}` placeholder.

use std::collections::HashMap;

use parking_lot::Mutex;
use regex::Regex;

/// How many compiled per-user forms of one `{user}` pattern are kept.
const PER_USER_CACHE: usize = 1000;

/// The placeholder replaced by the session user, quoted as a literal.
const USER_PLACEHOLDER: &str = "{user}";

/// A pattern of a rule. An absent pattern in a rule is `None` and matches anything.
#[derive(Debug)]
pub(crate) struct RulePattern {
    source: String,
    form: Form,
}

#[derive(Debug)]
enum Form {
    /// Compiled once.
    Fixed(Regex),
    /// Contains `{user}`: compiled per user, the user quoted as a literal.
    PerUser(Mutex<HashMap<String, Regex>>),
}

impl RulePattern {
    /// A pattern that does not take `{user}` (user, group, role, property, ... fields).
    pub(crate) fn fixed(field: &str, source: &str) -> Result<Self, String> {
        Ok(RulePattern {
            source: source.to_string(),
            form: Form::Fixed(anchored(field, source)?),
        })
    }

    /// A pattern that may contain `{user}` (catalog, schema and table fields). It is checked
    /// once with a sample user, so an invalid pattern fails when the rules load.
    pub(crate) fn with_user(field: &str, source: &str) -> Result<Self, String> {
        if !source.contains(USER_PLACEHOLDER) {
            return Self::fixed(field, source);
        }
        anchored(field, &substitute(source, "user"))?;
        Ok(RulePattern {
            source: source.to_string(),
            form: Form::PerUser(Mutex::new(HashMap::new())),
        })
    }

    /// The groups a whole-name match of `value` captured (fixed patterns only).
    pub(crate) fn captures<'v>(&self, value: &'v str) -> Option<regex::Captures<'v>> {
        match &self.form {
            Form::Fixed(regex) => regex.captures(value),
            Form::PerUser(_) => None,
        }
    }

    /// Whether `value` matches the whole pattern, `{user}` standing for `user`.
    pub(crate) fn matches(&self, value: &str, user: &str) -> bool {
        match &self.form {
            Form::Fixed(regex) => regex.is_match(value),
            Form::PerUser(cache) => {
                let mut cache = cache.lock();
                if let Some(regex) = cache.get(user) {
                    return regex.is_match(value);
                }
                // Checked at load with a sample user; a quoted user name cannot make it
                // invalid, but fail closed (no match) if it somehow does.
                let Ok(regex) = anchored("", &substitute(&self.source, user)) else {
                    return false;
                };
                let matched = regex.is_match(value);
                if cache.len() >= PER_USER_CACHE {
                    cache.clear();
                }
                cache.insert(user.to_string(), regex);
                matched
            }
        }
    }
}

/// Whether an optional pattern matches (`None` matches everything).
pub(crate) fn optional_matches(pattern: &Option<RulePattern>, value: &str, user: &str) -> bool {
    pattern
        .as_ref()
        .is_none_or(|pattern| pattern.matches(value, user))
}

/// Whether an optional pattern matches any of `values` (`None` matches everything, even no
/// values; a pattern matches nothing when there are no values).
pub(crate) fn optional_matches_any(pattern: &Option<RulePattern>, values: &[String]) -> bool {
    match pattern {
        None => true,
        Some(pattern) => values.iter().any(|value| pattern.matches(value, "")),
    }
}

fn substitute(source: &str, user: &str) -> String {
    source.replace(USER_PLACEHOLDER, &regex::escape(user))
}

/// `source` compiled to match whole names only. It must be valid on its own first: wrapped
/// unchecked, a source such as `x)|(.*` would escape the anchors and match everything.
fn anchored(field: &str, source: &str) -> Result<Regex, String> {
    let invalid = |e: regex::Error| {
        format!(
            "invalid pattern for '{field}': {source}: {}",
            first_line(&e)
        )
    };
    Regex::new(source).map_err(invalid)?;
    Regex::new(&format!("^(?:{source})$")).map_err(invalid)
}

fn first_line(error: &regex::Error) -> String {
    error
        .to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names_only() {
        let pattern = RulePattern::fixed("user", "ali").unwrap();
        assert!(pattern.matches("ali", ""));
        assert!(!pattern.matches("alice", ""));
        assert!(!pattern.matches("bali", ""));
        let alternation = RulePattern::fixed("user", "a|b").unwrap();
        assert!(alternation.matches("b", ""));
        assert!(!alternation.matches("ab", ""));
    }

    #[test]
    fn the_user_placeholder_is_a_literal() {
        let pattern = RulePattern::with_user("schema", "tenant_{user}").unwrap();
        assert!(pattern.matches("tenant_alice", "alice"));
        assert!(!pattern.matches("tenant_bob", "alice"));
        // A user name with regex characters matches only itself.
        assert!(pattern.matches("tenant_a.c", "a.c"));
        assert!(!pattern.matches("tenant_abc", "a.c"));
        assert!(!pattern.matches("tenant_x", ".*"));
        assert!(pattern.matches("tenant_.*", ".*"));
    }

    #[test]
    fn the_placeholder_is_only_taken_where_trino_takes_it() {
        // In a user field `{user}` is a regex repetition error, as in Trino.
        let err = RulePattern::fixed("user", "{user}").unwrap_err();
        assert!(err.contains("'user'"), "{err}");
        let err = RulePattern::with_user("schema", "(").unwrap_err();
        assert!(err.contains("'schema'"), "{err}");
        // A pattern that would escape the anchors when wrapped is rejected, not widened.
        assert!(RulePattern::fixed("user", "x)|(.*").is_err());
    }

    #[test]
    fn an_absent_pattern_matches_anything_but_a_present_one_needs_a_value() {
        assert!(optional_matches_any(&None, &[]));
        let group = Some(RulePattern::fixed("group", "t_.*").unwrap());
        assert!(!optional_matches_any(&group, &[]));
        assert!(optional_matches_any(&group, &["x".into(), "t_1".into()]));
    }

    #[test]
    fn the_per_user_cache_stays_bounded() {
        let pattern = RulePattern::with_user("schema", "{user}").unwrap();
        for i in 0..(PER_USER_CACHE * 2 + 5) {
            let user = format!("u{i}");
            assert!(pattern.matches(&user, &user));
        }
        if let Form::PerUser(cache) = &pattern.form {
            assert!(cache.lock().len() <= PER_USER_CACHE);
        }
    }
}
