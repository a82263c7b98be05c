//! Interactive mode: a line editor with history and completion, statements ended by `;`
//! or `\G`, and a few commands of the CLI's own.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};
use tokio::runtime::Runtime;
use vivace_client::Client;

use crate::completion::{self, Names, SqlHelper};
use crate::format::OutputFormat;
use crate::help::HELP;
use crate::run::{self, Display};
use crate::statements::{self, Terminator};

/// What the interactive loop needs.
pub struct Interactive {
    /// The tokio runtime queries run on.
    pub runtime: Runtime,
    /// The client, with the session `USE` and `SET SESSION` change.
    pub client: Client,
    /// The output format for `;`.
    pub format: OutputFormat,
    /// Progress, debug and pager settings.
    pub display: Display,
    /// Where history is kept, if anywhere.
    pub history: Option<PathBuf>,
}

/// A command the CLI handles itself.
enum Command {
    Quit,
    Help,
    Clear,
    History,
}

fn command(text: &str) -> Option<Command> {
    let word = text.trim().trim_end_matches(';').trim().to_lowercase();
    match word.as_str() {
        "quit" | "exit" => Some(Command::Quit),
        "help" => Some(Command::Help),
        "clear" => Some(Command::Clear),
        "history" => Some(Command::History),
        _ => None,
    }
}

fn prompt(client: &Client) -> String {
    match &client.session.schema {
        Some(schema) => format!("vivace:{schema}> "),
        None => "vivace> ".to_string(),
    }
}

impl Interactive {
    /// Reads and runs statements until `quit` or end of input.
    pub fn run(mut self) -> Result<(), String> {
        let config = Config::builder()
            .auto_add_history(false)
            .completion_type(CompletionType::List)
            .max_history_size(10_000)
            .map_err(|e| format!("cannot set up the line editor: {e}"))?
            .build();
        let mut editor: Editor<SqlHelper, FileHistory> = Editor::with_config(config)
            .map_err(|e| format!("cannot set up the line editor: {e}"))?;
        let names: Names = Arc::new(Mutex::new(Vec::new()));
        editor.set_helper(Some(SqlHelper::new(names.clone())));
        if let Some(path) = &self.history
            && path.exists()
            && let Err(e) = editor.load_history(path)
        {
            eprintln!("WARNING: cannot read history from {}: {e}", path.display());
        }
        self.refresh_names(&names);
        let mut history_warned = false;
        let mut pending = String::new();
        loop {
            let main_prompt = prompt(&self.client);
            let shown = if pending.is_empty() {
                main_prompt
            } else {
                format!("{:>width$}", "-> ", width = main_prompt.len())
            };
            let line = match editor.readline(&shown) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    pending.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(format!("cannot read the terminal: {e}")),
            };
            if pending.is_empty() {
                match command(&line) {
                    Some(Command::Quit) => break,
                    Some(Command::Help) => {
                        print!("{HELP}");
                        continue;
                    }
                    Some(Command::Clear) => {
                        let _ = editor.clear_screen();
                        continue;
                    }
                    Some(Command::History) => {
                        for (number, entry) in editor.history().iter().enumerate() {
                            println!("{:>5}  {entry}", number + 1);
                        }
                        continue;
                    }
                    None => {}
                }
            }
            pending.push_str(&line);
            pending.push('\n');
            let (complete, rest) = statements::split(&pending);
            pending = if rest.is_empty() { rest } else { rest + "\n" };
            for statement in complete {
                let entry = match statement.terminator {
                    Terminator::Semicolon => format!("{};", statement.sql),
                    Terminator::Vertical => format!("{}\\G", statement.sql),
                };
                let _ = editor.add_history_entry(entry);
                if let Some(path) = &self.history
                    && let Err(e) = editor.append_history(path)
                    && !history_warned
                {
                    history_warned = true;
                    eprintln!("WARNING: cannot save history to {}: {e}", path.display());
                }
                let format = match statement.terminator {
                    Terminator::Semicolon => self.format,
                    Terminator::Vertical => OutputFormat::Vertical,
                };
                let before = (
                    self.client.session.catalog.clone(),
                    self.client.session.schema.clone(),
                );
                self.runtime.block_on(run::run(
                    &mut self.client,
                    &statement.sql,
                    format,
                    &self.display,
                ));
                let after = (
                    self.client.session.catalog.clone(),
                    self.client.session.schema.clone(),
                );
                if before != after {
                    self.refresh_names(&names);
                }
            }
        }
        Ok(())
    }

    /// Fetches completion names in the background.
    fn refresh_names(&self, names: &Names) {
        self.runtime
            .spawn(completion::refresh(self.client.clone(), names.clone()));
    }
}
