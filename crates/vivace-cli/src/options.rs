//! The command line of `vivace cli`, with the Trino CLI's flag names.

use std::path::PathBuf;

use clap::Args;

use crate::error::CliError;
use crate::format::OutputFormat;

/// Options of `vivace cli`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Without --execute or --file, and with a terminal on stdin, the CLI \
is interactive: end statements with ';' (or '\\G' for vertical output), type 'help' for the \
commands, Ctrl-C cancels the running query, Ctrl-D or 'quit' leaves. Otherwise it runs the \
statements in batch mode and exits 1 at the first failure."
)]
pub struct CliArgs {
    /// The server: http(s)://host:port, or host:port for HTTP (port 443 means HTTPS).
    #[arg(long, value_name = "URL", default_value = "http://localhost:8080")]
    pub server: String,

    /// The user name [default: the OS user, or with --access-token the token's].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Prompt for a password (or read TRINO_PASSWORD); needs an https:// server.
    #[arg(long)]
    pub password: bool,

    /// A JWT access token for Bearer authentication; needs an https:// server.
    #[arg(long, value_name = "TOKEN")]
    pub access_token: Option<String>,

    /// The default catalog.
    #[arg(long, value_name = "NAME")]
    pub catalog: Option<String>,

    /// The default schema.
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,

    /// The name of this client, as queries report it.
    #[arg(long, value_name = "NAME", default_value = "vivace-cli")]
    pub source: String,

    /// Comma-separated tags, for resource group selection.
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub client_tags: Vec<String>,

    /// Free-form information about the client.
    #[arg(long, value_name = "TEXT")]
    pub client_info: Option<String>,

    /// A session property, as name=value. Repeatable.
    #[arg(long = "session", value_name = "NAME=VALUE")]
    pub sessions: Vec<String>,

    /// The session time zone, such as America/New_York [default: the server's].
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,

    /// Run these statements and exit.
    #[arg(long, short = 'e', value_name = "SQL", conflicts_with = "file")]
    pub execute: Option<String>,

    /// Run the statements in this file and exit.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The output format in batch mode: ALIGNED, VERTICAL, CSV, CSV_HEADER, CSV_UNQUOTED,
    /// CSV_HEADER_UNQUOTED, TSV, TSV_HEADER, JSON, MARKDOWN or NULL.
    #[arg(long, value_name = "FORMAT", default_value = "CSV")]
    pub output_format: OutputFormat,

    /// The output format in interactive mode.
    #[arg(long, value_name = "FORMAT", default_value = "ALIGNED")]
    pub output_format_interactive: OutputFormat,

    /// In batch mode, go on after a failed statement (the exit code is still 1).
    #[arg(long)]
    pub ignore_errors: bool,

    /// Show query progress on stderr in batch mode (interactive mode always shows it).
    #[arg(long)]
    pub progress: bool,

    /// Show the query id, info URI and error stack traces.
    #[arg(long)]
    pub debug: bool,

    /// Skip TLS certificate and host name verification.
    #[arg(long)]
    pub insecure: bool,

    /// A PEM file of CA certificates to trust for HTTPS.
    #[arg(long, value_name = "PATH")]
    pub truststore_path: Option<PathBuf>,

    /// A PEM file with a client certificate chain and private key.
    #[arg(long, value_name = "PATH")]
    pub keystore_path: Option<PathBuf>,

    /// The pager for interactive results; empty turns it off.
    #[arg(
        long,
        value_name = "COMMAND",
        env = "TRINO_PAGER",
        hide_env_values = true,
        default_value = "less -FXRSn"
    )]
    pub pager: String,

    /// Where interactive history is kept [default: ~/.vivace_history]; empty turns it off.
    #[arg(
        long,
        value_name = "PATH",
        env = "TRINO_HISTORY_FILE",
        hide_env_values = true
    )]
    pub history_file: Option<String>,
}

impl CliArgs {
    /// The server URL: a missing scheme means http, or https with port 443.
    pub fn server_url(&self) -> Result<String, CliError> {
        let text = self.server.trim();
        let bad = |why: &str| CliError::Usage(format!("invalid --server '{text}': {why}"));
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else if text.ends_with(":443") {
            format!("https://{text}")
        } else {
            format!("http://{text}")
        };
        let (scheme, rest) = with_scheme
            .split_once("://")
            .ok_or_else(|| bad("expected http://host:port"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("the scheme must be http or https"));
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.starts_with(':') {
            return Err(bad("no host"));
        }
        if !path.trim_end_matches('/').is_empty() {
            return Err(bad("a server URL has no path"));
        }
        if let Some((_, port)) = authority.rsplit_once(':')
            && !authority.ends_with(']')
            && port.parse::<u16>().is_err()
        {
            return Err(bad("the port must be a number from 0 to 65535"));
        }
        Ok(format!("{scheme}://{authority}"))
    }

    /// The `--session` properties, checked.
    pub fn session_properties(&self) -> Result<Vec<(String, String)>, CliError> {
        self.sessions
            .iter()
            .map(|item| {
                let (name, value) = item.split_once('=').ok_or_else(|| {
                    CliError::Usage(format!("invalid --session '{item}': expected name=value"))
                })?;
                let name = name.trim();
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if !valid {
                    return Err(CliError::Usage(format!(
                        "invalid --session '{item}': a property name is letters, digits, '_' \
                         and '.' (catalog.property)"
                    )));
                }
                Ok((name.to_string(), value.to_string()))
            })
            .collect()
    }

    /// The history file, unless turned off.
    pub fn history_path(&self) -> Option<PathBuf> {
        match &self.history_file {
            Some(path) if path.trim().is_empty() => None,
            Some(path) => Some(PathBuf::from(path)),
            None => {
                std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".vivace_history"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: CliArgs,
    }

    fn parse(args: &[&str]) -> CliArgs {
        let mut all = vec!["cli"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all).map(|w| w.args).unwrap()
    }

    #[test]
    fn server_urls_follow_the_trino_cli() {
        let url = |server: &str| parse(&["--server", server]).server_url();
        assert_eq!(url("localhost:8080").unwrap(), "http://localhost:8080");
        assert_eq!(url("example.com:443").unwrap(), "https://example.com:443");
        assert_eq!(url("https://h:8443/").unwrap(), "https://h:8443");
        assert_eq!(url("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        for bad in [
            "ftp://h:1",
            "http://h:1/v1/statement",
            "http://:80",
            "h:port",
        ] {
            let error = url(bad).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("invalid --server '{bad}'")),
                "{error}"
            );
        }
    }

    #[test]
    fn session_properties_need_a_name_and_a_value() {
        let args = parse(&["--session", "a=1", "--session", "hive.x=a=b"]);
        assert_eq!(
            args.session_properties().unwrap(),
            vec![
                ("a".to_string(), "1".to_string()),
                ("hive.x".to_string(), "a=b".to_string())
            ]
        );
        let error = parse(&["--session", "oops"])
            .session_properties()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid --session 'oops': expected name=value"
        );
        assert!(parse(&["--session", "=1"]).session_properties().is_err());
    }

    #[test]
    fn formats_parse_case_insensitively_and_execute_conflicts_with_file() {
        let args = parse(&["--output-format", "csv_header", "--client-tags", "a,b"]);
        assert_eq!(args.output_format, OutputFormat::CsvHeader);
        assert_eq!(args.client_tags, vec!["a", "b"]);
        let wrapped = Wrapper::try_parse_from(["cli", "--execute", "x", "-f", "y"]);
        assert!(wrapped.is_err());
    }
}
