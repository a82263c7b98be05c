//! Trino-style `.properties` files: parsing, `${ENV:NAME}` substitution, `-Dkey=value`
//! overrides, and typed access that reports unknown or malformed keys by file, line and key.
//!
//! A [`PropertyMap`] is consumed by the typed config structs: each `take_*` call removes a key,
//! and [`PropertyMap::finish`] fails on whatever is left, so a misspelt key stops startup.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Where a property came from and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The value after environment substitution.
    pub value: String,
    /// The file it was read from, or `None` for a `-D` override or a built-in default.
    pub file: Option<PathBuf>,
    /// The 1-based line in that file.
    pub line: usize,
}

impl Property {
    fn location(&self, key: &str) -> String {
        match &self.file {
            Some(file) => format!("{}:{}: property '{key}'", file.display(), self.line),
            None => format!("override -D{key}"),
        }
    }
}

/// A configuration problem, with the file, line and key it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A line is not `key=value`.
    #[error("{path}:{line}: malformed line (expected key=value): {text}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The offending text.
        text: String,
    },
    /// A key or value is wrong; `location` names file, line and key.
    #[error("{location}: {message}")]
    Invalid {
        /// `file:line: property 'key'`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A required key is absent.
    #[error("{source_name}: missing required property '{key}'")]
    Missing {
        /// The file (or config section) that should hold it.
        source_name: String,
        /// The key.
        key: String,
    },
}

/// The properties of one file (plus overrides), consumed key by key.
#[derive(Debug, Clone, Default)]
pub struct PropertyMap {
    source_name: String,
    entries: BTreeMap<String, Property>,
}

impl PropertyMap {
    /// An empty map; `source_name` names it in errors about missing keys.
    pub fn new(source_name: impl Into<String>) -> Self {
        PropertyMap {
            source_name: source_name.into(),
            entries: BTreeMap::new(),
        }
    }

    /// Reads and parses a file, substituting `${ENV:NAME}` from the process environment.
    pub fn load(path: &Path) -> Result<Self, PropertiesError> {
        let text = std::fs::read_to_string(path).map_err(|e| PropertiesError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(path, &text, &|name| std::env::var(name).ok())
    }

    /// Parses properties text; `env` resolves `${ENV:NAME}`.
    pub fn parse(
        path: &Path,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, PropertiesError> {
        let mut map = PropertyMap::new(path.display().to_string());
        let mut lines = text.lines().enumerate().peekable();
        while let Some((index, raw)) = lines.next() {
            let line_number = index + 1;
            let mut line = raw.trim().to_string();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            // A trailing backslash continues the logical line, as in Java properties.
            while line.ends_with('\\') {
                line.pop();
                match lines.next() {
                    Some((_, next)) => line.push_str(next.trim()),
                    None => break,
                }
            }
            let Some(split) = line.find(['=', ':']) else {
                return Err(PropertiesError::Malformed {
                    path: path.to_path_buf(),
                    line: line_number,
                    text: line,
                });
            };
            let key = line[..split].trim();
            if key.is_empty() {
                return Err(PropertiesError::Malformed {
                    path: path.to_path_buf(),
                    line: line_number,
                    text: line.clone(),
                });
            }
            let property = Property {
                value: String::new(),
                file: Some(path.to_path_buf()),
                line: line_number,
            };
            let value = substitute_env(line[split + 1..].trim(), env).map_err(|message| {
                PropertiesError::Invalid {
                    location: property.location(key),
                    message,
                }
            })?;
            map.entries
                .insert(key.to_string(), Property { value, ..property });
        }
        Ok(map)
    }

    /// Sets a key from an override (`-Dkey=value`), replacing any value from a file.
    pub fn set_override(&mut self, key: &str, value: &str) {
        self.entries.insert(
            key.to_string(),
            Property {
                value: value.to_string(),
                file: None,
                line: 0,
            },
        );
    }

    /// Whether a key is present (and not yet taken).
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The keys not yet taken.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The name used in errors (usually the file path).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Removes and returns a raw property.
    pub fn take(&mut self, key: &str) -> Option<Property> {
        self.entries.remove(key)
    }

    /// Removes every key that starts with `prefix`, returning them with the prefix stripped.
    pub fn take_prefixed(&mut self, prefix: &str) -> BTreeMap<String, Property> {
        let keys: Vec<String> = self
            .entries
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| {
                let property = self.entries.remove(&k)?;
                Some((k[prefix.len()..].to_string(), property))
            })
            .collect()
    }

    /// Removes a string property.
    pub fn take_string(&mut self, key: &str) -> Option<String> {
        self.take(key).map(|p| p.value)
    }

    /// Removes a required string property.
    pub fn require_string(&mut self, key: &str) -> Result<String, PropertiesError> {
        self.take_string(key)
            .ok_or_else(|| PropertiesError::Missing {
                source_name: self.source_name.clone(),
                key: key.to_string(),
            })
    }

    /// Removes a property and converts it with `convert`, whose error message is reported with
    /// the property's location.
    pub fn take_with<T>(
        &mut self,
        key: &str,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, PropertiesError> {
        let Some(property) = self.take(key) else {
            return Ok(None);
        };
        convert(&property.value)
            .map(Some)
            .map_err(|message| PropertiesError::Invalid {
                location: property.location(key),
                message,
            })
    }

    /// Removes a property parsed with `FromStr`.
    pub fn take_parsed<T>(&mut self, key: &str) -> Result<Option<T>, PropertiesError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.take_with(key, |v| {
            v.parse::<T>()
                .map_err(|e| format!("invalid value '{v}': {e}"))
        })
    }

    /// Removes a boolean property (`true`/`false`, any case).
    pub fn take_bool(&mut self, key: &str) -> Result<Option<bool>, PropertiesError> {
        self.take_with(key, parse_bool)
    }

    /// Removes a data size such as `1GB` or `512MB`, in bytes.
    pub fn take_data_size(&mut self, key: &str) -> Result<Option<u64>, PropertiesError> {
        self.take_with(key, parse_data_size)
    }

    /// Removes a duration such as `30s`, `5m` or `1.5h`.
    pub fn take_duration(&mut self, key: &str) -> Result<Option<Duration>, PropertiesError> {
        self.take_with(key, parse_duration)
    }

    /// Fails if any key was not taken: unknown keys are configuration errors.
    pub fn finish(self) -> Result<(), PropertiesError> {
        match self.entries.into_iter().next() {
            None => Ok(()),
            Some((key, property)) => Err(PropertiesError::Invalid {
                location: property.location(&key),
                message: "unknown property".to_string(),
            }),
        }
    }
}

/// Replaces each `${ENV:NAME}` with the variable's value; an unset variable is an error.
fn substitute_env(value: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${ENV:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated ${{ENV:...}} in '{value}'"))?;
        let name = &after[..end];
        let resolved =
            env(name).ok_or_else(|| format!("environment variable '{name}' is not set"))?;
        out.push_str(&resolved);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses `true` or `false`, ignoring case.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, got '{value}'")),
    }
}

/// Parses an airlift data size (`100B`, `64kB`, `512MB`, `2GB`, `1TB`, `1.5GB`) into bytes.
pub fn parse_data_size(value: &str) -> Result<u64, String> {
    let text = value.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("data size '{value}' needs a unit (B, kB, MB, GB, TB, PB)"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("invalid data size '{value}'"))?;
    let multiplier: u64 = match unit.trim() {
        "B" => 1,
        "kB" | "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        "PB" => 1 << 50,
        other => return Err(format!("unknown data size unit '{other}' in '{value}'")),
    };
    Ok((number * multiplier as f64) as u64)
}

/// Parses an airlift duration (`500ms`, `30s`, `5m`, `1h`, `2d`).
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("duration '{value}' needs a unit (ms, s, m, h, d)"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration '{value}'"))?;
    let seconds = match unit.trim() {
        "ns" => number / 1e9,
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86400.0,
        other => return Err(format!("unknown duration unit '{other}' in '{value}'")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("duration '{value}' is out of range"))
}

/// Formats a data size as airlift's succinct form does (`512.00MB`).
pub fn format_data_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.2}{}", UNITS[unit])
    }
}

/// Formats a duration as airlift does (`5.31m`), for `/v1/info`'s `uptime`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1.0 {
        format!("{:.2}ms", seconds * 1e3)
    } else if seconds < 60.0 {
        format!("{seconds:.2}s")
    } else if seconds < 3600.0 {
        format!("{:.2}m", seconds / 60.0)
    } else if seconds < 86400.0 {
        format!("{:.2}h", seconds / 3600.0)
    } else {
        format!("{:.2}d", seconds / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "PORT").then(|| "9090".to_string())
    }

    #[test]
    fn sizes_and_durations_out_of_range() {
        assert_eq!(format_data_size(512), "512B");
        assert_eq!(format_data_size(10 << 20), "10.00MB");
        assert!(parse_duration("99999999999999999999999999999d").is_err());
        assert!(parse_duration("1e3s").is_err());
    }

    #[test]
    fn parses_lines_comments_and_env() {
        let text = "# comment\ncoordinator=true\nhttp-server.http.port=${ENV:PORT}\n\nquery.max-memory = 1GB\n";
        let mut map = PropertyMap::parse(Path::new("config.properties"), text, &env).unwrap();
        assert_eq!(map.take_bool("coordinator").unwrap(), Some(true));
        assert_eq!(
            map.take_parsed::<u16>("http-server.http.port").unwrap(),
            Some(9090)
        );
        assert_eq!(
            map.take_data_size("query.max-memory").unwrap(),
            Some(1 << 30)
        );
        map.finish().unwrap();
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let text = "a=1\nbogus.key=2\n";
        let mut map = PropertyMap::parse(Path::new("etc/config.properties"), text, &env).unwrap();
        map.take("a");
        let err = map.finish().unwrap_err().to_string();
        assert_eq!(
            err,
            "etc/config.properties:2: property 'bogus.key': unknown property"
        );

        let mut map = PropertyMap::parse(Path::new("c.properties"), "port=abc\n", &env).unwrap();
        let err = map.take_parsed::<u16>("port").unwrap_err().to_string();
        assert!(
            err.starts_with("c.properties:1: property 'port': invalid value 'abc'"),
            "{err}"
        );

        let err = PropertyMap::parse(Path::new("c.properties"), "x=${ENV:NOPE}\n", &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'NOPE' is not set"), "{err}");

        let err = PropertyMap::parse(Path::new("c.properties"), "\njust words\n", &env)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.properties:2: malformed line"), "{err}");
    }

    #[test]
    fn overrides_replace_file_values() {
        let mut map = PropertyMap::parse(Path::new("c"), "a=1\n", &env).unwrap();
        map.set_override("a", "2");
        assert_eq!(map.take_string("a").as_deref(), Some("2"));
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_data_size("512MB").unwrap(), 512 << 20);
        assert!(parse_data_size("12").is_err());
        assert!(parse_data_size("12XB").is_err());
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("forever").is_err());
        assert_eq!(format_duration(Duration::from_secs(90)), "1.50m");
    }
}
