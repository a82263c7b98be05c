//! User mapping: from the name in the credentials to the session user, by one pattern or by
//! a rules file (`...user-mapping.pattern` / `...user-mapping.file`), as Trino does.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use crate::SecurityError;

/// Maps authenticated names to session users.
#[derive(Debug, Clone)]
pub enum UserMapping {
    /// The name is the user.
    Identity,
    /// The first capture group of a pattern that must match the whole name.
    Pattern(Regex),
    /// The first matching rule decides; no match denies.
    Rules(Vec<MappingRule>),
}

/// One rule of a user-mapping file.
#[derive(Debug, Clone)]
pub struct MappingRule {
    pattern: Regex,
    user: String,
    allow: bool,
    case: CaseChange,
}

#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
enum CaseChange {
    #[default]
    Keep,
    Lower,
    Upper,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    pattern: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    allow: Option<bool>,
    #[serde(default)]
    case: CaseChange,
}

fn whole_match(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("invalid pattern: {e}"))
}

impl UserMapping {
    /// A mapping from a single pattern whose first group is the user.
    pub fn pattern(pattern: &str) -> Result<Self, String> {
        let regex = whole_match(pattern)?;
        if regex.captures_len() < 2 {
            return Err(format!(
                "pattern {pattern} has no capture group for the user"
            ));
        }
        Ok(UserMapping::Pattern(regex))
    }

    /// A mapping from a JSON rules file.
    pub fn rules_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: RulesFile = serde_json::from_str(&text)
            .map_err(|e| format!("{}: invalid user mapping rules: {e}", path.display()))?;
        let rules = file
            .rules
            .into_iter()
            .map(|spec| {
                Ok(MappingRule {
                    pattern: whole_match(&spec.pattern)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                    user: spec.user.unwrap_or_else(|| "$1".to_string()),
                    allow: spec.allow.unwrap_or(true),
                    case: spec.case,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(UserMapping::Rules(rules))
    }

    /// The session user for an authenticated name.
    pub fn map(&self, name: &str) -> Result<String, SecurityError> {
        let denied =
            || SecurityError::Forbidden(format!("No user mapping rule matches principal {name}"));
        let user = match self {
            UserMapping::Identity => name.to_string(),
            UserMapping::Pattern(regex) => regex
                .captures(name)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
                .ok_or_else(denied)?,
            UserMapping::Rules(rules) => {
                let (rule, captures) = rules
                    .iter()
                    .find_map(|rule| rule.pattern.captures(name).map(|c| (rule, c)))
                    .ok_or_else(denied)?;
                if !rule.allow {
                    return Err(SecurityError::Forbidden(format!(
                        "Principal {name} is not allowed by the user mapping"
                    )));
                }
                let mut user = String::new();
                captures.expand(&rule.user, &mut user);
                match rule.case {
                    CaseChange::Keep => user,
                    CaseChange::Lower => user.to_lowercase(),
                    CaseChange::Upper => user.to_uppercase(),
                }
            }
        };
        if user.is_empty() {
            return Err(SecurityError::Forbidden(format!(
                "User mapping of principal {name} gives an empty user"
            )));
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_takes_first_group_of_whole_match() {
        let mapping = UserMapping::pattern(r"(.*)@example\.com").unwrap();
        assert_eq!(mapping.map("alice@example.com").unwrap(), "alice");
        assert!(mapping.map("alice@example.com.evil").is_err());
        assert!(UserMapping::pattern("nogroup").is_err());
    }

    #[test]
    fn rules_first_match_wins_with_case_and_deny() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.json");
        std::fs::write(
            &path,
            r#"{"rules": [
                {"pattern": "test@example\\.com", "allow": false},
                {"pattern": "(?<user>.+)@(?<region>.+)\\.example\\.com", "user": "${user}_${region}"},
                {"pattern": "(.+)@example\\.com"},
                {"pattern": "(.*)@upper\\.com", "case": "upper"}
            ]}"#,
        )
        .unwrap();
        let mapping = UserMapping::rules_file(&path).unwrap();
        assert!(mapping.map("test@example.com").is_err());
        assert_eq!(mapping.map("bob@eu.example.com").unwrap(), "bob_eu");
        assert_eq!(mapping.map("bob@example.com").unwrap(), "bob");
        assert_eq!(mapping.map("carol@upper.com").unwrap(), "CAROL");
        assert!(mapping.map("dave@other.org").is_err());
    }
}
