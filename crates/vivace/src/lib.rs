//! The `vivace` command: `vivace server` runs a node, `vivace cli` is the SQL client; the
//! other subcommands are tools for operators. This crate wires concrete parts together:
//! which connectors, which engine, which server. It is the only crate that may depend on all
//! the others, and none may depend on it.

mod cli;
pub mod etc;
mod etc_files;
mod health;
mod logging;
mod security_tools;
mod server;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Parses the command line and runs the chosen subcommand.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout, usage errors to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        cli::Command::Server(args) => server::run(args),
        cli::Command::Cli(args) => vivace_cli::main(*args),
        cli::Command::Health(args) => health::run(args),
        cli::Command::GenCert(args) => security_tools::gen_cert(args),
        cli::Command::HashPassword(args) => security_tools::hash_password(args),
    }
}
