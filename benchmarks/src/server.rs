//! A `vivace server` child process, killed when dropped.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{BenchResult, Context, error};

/// How often readiness is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// A running server. Dropping it kills the process and waits for it.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    url: String,
    spawned_at: Instant,
    log_path: PathBuf,
    // Holds the etc directory and the log until the server is gone.
    _dir: TempDir,
}

impl ServerProcess {
    /// Spawns `binary server` on a free local port. With no catalogs the embedded default
    /// configuration runs; otherwise an etc directory is written with one
    /// `catalog/NAME.properties` per `(NAME, properties text)`.
    pub fn spawn(binary: &Path, catalogs: &[(&str, String)]) -> BenchResult<Self> {
        let port = free_port()?;
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let log_path = dir.path().join("server.log");
        let mut command = Command::new(binary);
        command
            .arg("server")
            .arg(format!("-Dhttp-server.http.port={port}"))
            .arg("-Dhttp-server.http.bind-address=127.0.0.1")
            // Every benchmark client runs as one user; the per-user statement limit (100 per
            // second by default) would measure the limit instead of the server.
            .arg("-Dhttp-server.max-statements-per-second-per-user=1000000");
        if !catalogs.is_empty() {
            let etc = dir.path().join("etc");
            let catalog_dir = etc.join("catalog");
            std::fs::create_dir_all(&catalog_dir)
                .context(format!("cannot create {}", catalog_dir.display()))?;
            write(
                &etc.join("config.properties"),
                &format!("coordinator=true\nhttp-server.http.port={port}\n"),
            )?;
            for (name, properties) in catalogs {
                write(&catalog_dir.join(format!("{name}.properties")), properties)?;
            }
            command.arg("--etc").arg(&etc);
        }
        let log =
            File::create(&log_path).context(format!("cannot create {}", log_path.display()))?;
        let log_err = log.try_clone().context("cannot duplicate the log file")?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .context(format!("cannot start {}", binary.display()))?;
        Ok(ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            spawned_at,
            log_path,
            _dir: dir,
        })
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Time since the process was spawned.
    pub fn since_spawn(&self) -> Duration {
        self.spawned_at.elapsed()
    }

    /// Polls `GET /v1/info` until it answers 200 and returns the time since spawn. Fails if the
    /// process exits or `timeout` passes first.
    pub async fn wait_for_info(&mut self, timeout: Duration) -> BenchResult<Duration> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("cannot build an HTTP client")?;
        let info = format!("{}/v1/info", self.url);
        loop {
            if let Ok(response) = http.get(&info).send().await
                && response.status().is_success()
            {
                return Ok(self.since_spawn());
            }
            if let Some(status) = self.child.try_wait().context("cannot poll the server")? {
                return Err(error(format!(
                    "the server exited ({status}) before answering /v1/info; log:\n{}",
                    self.log_tail()
                )));
            }
            if self.since_spawn() > timeout {
                return Err(error(format!(
                    "the server did not answer {info} within {timeout:?}; log:\n{}",
                    self.log_tail()
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The resident set size in KiB, from `/proc/PID/status` (`VmRSS`).
    pub fn rss_kib(&self) -> BenchResult<u64> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).context(format!("cannot read {path}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| error(format!("no VmRSS line in {path}")))
    }

    /// CPU time (user + system) the server has used, from `/proc/PID/stat`.
    pub fn cpu_time(&self) -> BenchResult<Duration> {
        process_cpu_time(&format!("/proc/{}/stat", self.pid()))
    }

    /// The last lines the server wrote, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Ignore errors: the process may already have exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) of a process from its `/proc/.../stat` file, assuming the usual
/// 100 clock ticks per second.
pub fn process_cpu_time(stat_path: &str) -> BenchResult<Duration> {
    let stat = std::fs::read_to_string(stat_path).context(format!("cannot read {stat_path}"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| error(format!("unexpected format of {stat_path}")))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> BenchResult<u64> {
        fields
            .get(index)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| error(format!("unexpected format of {stat_path}")))
    };
    // `after_name` starts at field 3 (state), so field N is at index N - 3.
    let total = ticks(14 - 3)? + ticks(15 - 3)?;
    Ok(Duration::from_millis(total * 10))
}

fn write(path: &Path, text: &str) -> BenchResult<()> {
    std::fs::write(path, text).context(format!("cannot write {}", path.display()))
}

/// A port that was free a moment ago.
fn free_port() -> BenchResult<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener
        .local_addr()
        .context("cannot read the local address")?
        .port())
}
