//! What the CLI needs to know about its terminal.

use std::io::IsTerminal;

/// The width of the terminal on stderr (where progress goes), or 80.
pub fn stderr_width() -> usize {
    terminal_size::terminal_size_of(std::io::stderr())
        .map(|(width, _)| usize::from(width.0))
        .filter(|&width| width > 0)
        .unwrap_or(80)
}

/// Whether stdin is a terminal (interactive mode).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether stdout is a terminal (results may go through the pager).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether stderr is a terminal (the progress line can be redrawn in place).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
