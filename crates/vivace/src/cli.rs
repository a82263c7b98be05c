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
    /// Run a server node (a single-node coordinator for now).
    Server(ServerArgs),
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
}
