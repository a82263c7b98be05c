//! Starting real `vivace server` processes for integration tests.
// Each test binary uses a different part of this module.
#![allow(dead_code)]
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vivace_client::{Client, ClientSession};

pub mod nodes;

/// A server process on a free loopback port, killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
}

/// A client of the server at `url` as `user`, with tpch.tiny as defaults.
pub fn tpch_client(url: &str, user: &str) -> Client {
    Client::new(
        url,
        ClientSession {
            user: user.to_string(),
            catalog: Some("tpch".to_string()),
            schema: Some("tiny".to_string()),
            ..ClientSession::default()
        },
    )
    .expect("client for a local server")
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

impl ServerProcess {
    /// Starts `vivace server` with the given extra arguments.
    pub fn start(extra: &[&str], etc: Option<&Path>) -> Result<Self, String> {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_vivace"));
        command.arg("server");
        if let Some(etc) = etc {
            command.arg("--etc").arg(etc);
        }
        command
            .arg(format!("-Dhttp-server.http.port={port}"))
            .arg("-Dhttp-server.http.bind-address=127.0.0.1")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start vivace: {e}"))?;
        Ok(ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// A client for this server as `user`, with tpch.tiny as defaults.
    pub fn client(&self, user: &str) -> Client {
        tpch_client(&self.url, user)
    }

    /// Waits until `SELECT 1` succeeds.
    pub async fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = self.client("ready-check");
        while Instant::now() < deadline {
            if client.execute("SELECT 1").await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("server at {} did not become ready", self.url))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
