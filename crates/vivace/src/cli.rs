//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Vivace: a multi-tenant, distributed, Trino-compatible SQL query engine.
#[derive(Debug, Parser)]
#[command(name = "vivace", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a server node: a coordinator or a worker, as config.properties says.
    Server(ServerArgs),
    /// Run SQL against a server, interactively or in batch, like the Trino CLI.
    Cli(Box<vivace_cli::CliArgs>),
    /// Exit 0 when the local node answers /v1/info and has finished starting, else 1 (the
    /// Docker image's HEALTHCHECK).
    Health(HealthArgs),
    /// Write a development CA (ca.pem) and a server keystore it signs (vivace.pem) for HTTPS.
    GenCert(GenCertArgs),
    /// Print a bcrypt hash of a password for file.password-file (reads the password from the
    /// terminal, or from stdin when it is not a terminal).
    HashPassword(HashPasswordArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GenCertArgs {
    /// A DNS name or IP address the certificate is for. Repeatable; defaults to localhost and
    /// 127.0.0.1.
    #[arg(long = "host", value_name = "HOST")]
    pub(crate) hosts: Vec<String>,

    /// The directory to write ca.pem and vivace.pem to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,

    /// How many days the certificates are valid.
    #[arg(long, default_value_t = 365)]
    pub(crate) days: u32,

    /// Replace existing files.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HashPasswordArgs {
    /// Print a whole `user:hash` line for this user.
    #[arg(long, value_name = "NAME")]
    pub(crate) user: Option<String>,

    /// The bcrypt cost (8 to 31).
    #[arg(long, default_value_t = 10)]
    pub(crate) cost: u32,
}

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// A Trino-style configuration directory (config.properties, node.properties,
    /// catalog/*.properties). Without it, an embedded default runs: HTTP on port 8080 with
    /// the tpch, memory and system catalogs.
    #[arg(long, value_name = "DIR")]
    pub(crate) etc: Option<PathBuf>,

    /// Override a property, as in `-Dhttp-server.http.port=8081`. `node.*` keys go to
    /// node.properties, all others to config.properties. Repeatable.
    #[arg(short = 'D', value_name = "KEY=VALUE", action = clap::ArgAction::Append)]
    pub(crate) properties: Vec<String>,

    /// When node.properties sets no node.id, use this host's name (the Docker image does, so
    /// a container's node id is its hostname).
    #[arg(long)]
    pub(crate) node_id_from_hostname: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// The node's configuration directory: its config.properties says which port and scheme
    /// to check. Without it, the embedded default's http://localhost:8080.
    #[arg(long, value_name = "DIR")]
    pub(crate) etc: Option<PathBuf>,

    /// Override a config.properties key, as the server was started with. Repeatable.
    #[arg(short = 'D', value_name = "KEY=VALUE", action = clap::ArgAction::Append)]
    pub(crate) properties: Vec<String>,

    /// Check this base URL instead (e.g. https://localhost:8443).
    #[arg(long, value_name = "URL", conflicts_with = "etc")]
    pub(crate) url: Option<String>,

    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    pub(crate) timeout: u64,
}
