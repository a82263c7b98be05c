//! `vivace cli`: an interactive and batch SQL client with the Trino CLI's flags, output
//! formats and habits. It speaks only the client protocol, so it works against Trino too.
//!
//! - [`options`]: the flags;
//! - [`format`]: the output formats;
//! - [`run`]: running one statement with progress, output and Ctrl-C;
//! - `repl` and `completion`: interactive mode.
//!
//! It must not depend on the engine, the server or any crate but `vivace-client` and
//! `vivace-protocol`: what it needs of a server is what any Trino server answers.

mod completion;
pub mod error;
pub mod format;
mod help;
pub mod options;
mod pager;
pub mod progress;
mod repl;
pub mod run;
pub mod statements;
mod terminal;

use std::io::Read;
use std::process::ExitCode;

use vivace_client::{Client, ClientOptions, ClientSession, Credentials, TlsOptions};

pub use error::CliError;
pub use options::CliArgs;

use crate::run::{Display, Outcome};
use crate::statements::Terminator;

/// Runs `vivace cli` and returns its exit code: 0, 1 after a failed statement (batch mode),
/// 2 for bad options.
pub fn main(args: CliArgs) -> ExitCode {
    match start(args) {
        Ok(code) => code,
        Err(CliError::Usage(message)) => {
            eprintln!("vivace cli: {message}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("Error running command: {error}");
            ExitCode::from(1)
        }
    }
}

/// Where the statements come from.
enum Input {
    Batch(String),
    Interactive,
}

fn start(args: CliArgs) -> Result<ExitCode, CliError> {
    let server = args.server_url()?;
    let properties = args.session_properties()?;
    let input = if let Some(sql) = &args.execute {
        Input::Batch(sql.clone())
    } else if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
        Input::Batch(text)
    } else if terminal::stdin_is_terminal() {
        Input::Interactive
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Input(format!("cannot read stdin: {e}")))?;
        Input::Batch(text)
    };
    let user = match &args.user {
        Some(user) => user.clone(),
        // The token names the user; the server takes it from there.
        None if args.access_token.is_some() => String::new(),
        None => os_user().ok_or_else(|| {
            CliError::Usage("cannot tell the OS user; name one with --user".to_string())
        })?,
    };
    let credentials = credentials(&args, &user)?;
    let options = ClientOptions {
        tls: TlsOptions {
            insecure: args.insecure,
            truststore_path: args.truststore_path.clone(),
            keystore_path: args.keystore_path.clone(),
        },
        credentials,
        user_agent: format!("vivace-cli/{}", env!("CARGO_PKG_VERSION")),
        ..ClientOptions::new(&server)
    };
    let session = ClientSession {
        user,
        source: Some(args.source.clone()),
        catalog: args.catalog.clone(),
        schema: args.schema.clone(),
        properties: properties.into_iter().collect(),
        time_zone: args.timezone.clone(),
        client_tags: args.client_tags.clone(),
        client_info: args.client_info.clone(),
        ..ClientSession::default()
    };
    let client = Client::with_options(&options, session).map_err(|e| match e {
        vivace_client::ClientError::Config(message) => CliError::Usage(message),
        other => CliError::Client(other),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Input(format!("cannot start the runtime: {e}")))?;
    match input {
        Input::Batch(text) => Ok(batch(&runtime, client, &text, &args)),
        Input::Interactive => {
            let interactive = repl::Interactive {
                runtime,
                client,
                format: args.output_format_interactive,
                display: Display {
                    interactive: true,
                    progress: true,
                    debug: args.debug,
                    pager: Some(args.pager.clone()).filter(|p| !p.trim().is_empty()),
                },
                history: args.history_path(),
            };
            interactive.run().map_err(CliError::Input)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs every statement of `text`; the last may lack its `;`.
fn batch(
    runtime: &tokio::runtime::Runtime,
    mut client: Client,
    text: &str,
    args: &CliArgs,
) -> ExitCode {
    let display = Display {
        interactive: false,
        progress: args.progress,
        debug: args.debug,
        pager: None,
    };
    let (mut statements, rest) = statements::split(text);
    if !rest.is_empty() {
        statements.push(statements::Statement {
            sql: rest,
            terminator: Terminator::Semicolon,
        });
    }
    let mut failed = false;
    for statement in statements {
        let format = match statement.terminator {
            Terminator::Semicolon => args.output_format,
            Terminator::Vertical => format::OutputFormat::Vertical,
        };
        match runtime.block_on(run::run(&mut client, &statement.sql, format, &display)) {
            Outcome::Finished => {}
            Outcome::Failed if args.ignore_errors => failed = true,
            Outcome::Failed | Outcome::Aborted => return ExitCode::from(1),
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The user to connect as when `--user` is not given: `$USER`, `$LOGNAME`, else the name
/// of this process's user in `/etc/passwd`.
fn os_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|user| !user.trim().is_empty())
        .or_else(passwd_user)
}

#[cfg(unix)]
fn passwd_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(not(unix))]
fn passwd_user() -> Option<String> {
    None
}

fn credentials(args: &CliArgs, user: &str) -> Result<Credentials, CliError> {
    if args.password && args.access_token.is_some() {
        return Err(CliError::Usage(
            "--password and --access-token cannot be used together".to_string(),
        ));
    }
    if let Some(token) = &args.access_token {
        return Ok(Credentials::AccessToken(token.clone()));
    }
    if !args.password {
        return Ok(Credentials::None);
    }
    let password = match std::env::var("TRINO_PASSWORD") {
        Ok(password) => password,
        Err(_) => rpassword::prompt_password("Password: ")
            .map_err(|e| CliError::Input(format!("cannot read the password: {e}")))?,
    };
    Ok(Credentials::Password {
        user: user.to_string(),
        password,
    })
}
