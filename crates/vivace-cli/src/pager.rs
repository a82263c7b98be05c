//! Showing interactive results through a pager (`less -FXRSn` by default), as the Trino
//! CLI does.

use std::io::Write;
use std::process::{Command, Stdio};

/// Writes `text` through `pager` (a shell command line), or straight to stdout when there
/// is no pager or it cannot start.
pub fn show(text: &str, pager: Option<&str>) {
    if let Some(command) = pager.filter(|p| !p.trim().is_empty()) {
        match Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .spawn()
        {
            Ok(mut child) => {
                if let Some(mut stdin) = child.stdin.take() {
                    // The user may quit the pager before reading everything: a broken pipe
                    // is not an error.
                    let _ = stdin.write_all(text.as_bytes());
                }
                let _ = child.wait();
                return;
            }
            Err(e) => eprintln!("ERROR: failed to open pager: {e}"),
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
