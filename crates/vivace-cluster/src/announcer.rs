//! A worker's announcements to the coordinator's discovery service.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};
use vivace_security::InternalAuth;

use crate::{Announcement, ClusterConfig, ClusterError};

/// Announces this node every interval; unannounces on [`Announcer::leave`].
#[derive(Debug)]
pub struct Announcer {
    config: ClusterConfig,
    announcement: Announcement,
    internal: Option<Arc<InternalAuth>>,
    client: reqwest::Client,
}

impl Announcer {
    /// An announcer for this node, reachable at `config.internal_uri`.
    pub fn new(
        config: ClusterConfig,
        version: &str,
        internal: Option<Arc<InternalAuth>>,
    ) -> Result<Self, ClusterError> {
        if config.discovery_uri.is_none() {
            return Err(ClusterError::Announce(
                "discovery.uri is not set".to_string(),
            ));
        }
        let announcement = Announcement::new(
            &config.environment,
            &config.node_id,
            &config.internal_uri,
            version,
            false,
        );
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ClusterError::Announce(format!("cannot create HTTP client: {e}")))?;
        Ok(Announcer {
            config,
            announcement,
            internal,
            client,
        })
    }

    fn url(&self) -> String {
        format!(
            "{}/v1/announcement/{}",
            self.config
                .discovery_uri
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/'),
            self.config.node_id
        )
    }

    fn sign(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        crate::signed(request, self.internal.as_deref())
    }

    /// Sends one announcement; the error names why the coordinator refused it.
    pub async fn announce_once(&self) -> Result<(), ClusterError> {
        let response = self
            .sign(self.client.put(self.url()).json(&self.announcement))
            .header("user-agent", &self.config.node_id)
            .send()
            .await
            .map_err(|e| {
                ClusterError::Announce(format!(
                    "cannot reach the discovery service at {}: {e}",
                    self.url()
                ))
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let hint = if status.as_u16() == 401 {
            " (check that internal-communication.shared-secret is the same on every node)"
        } else {
            ""
        };
        Err(ClusterError::Announce(format!(
            "the discovery service refused the announcement with {status}: {}{hint}",
            body.trim()
        )))
    }

    /// Announces every interval until the task is dropped, logging each change of outcome
    /// (joined, or a different reason for failing).
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(this.config.announcement_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // `None`: announced; `Some(reason)`: failing for that reason.
            let mut last: Option<Option<String>> = None;
            loop {
                tick.tick().await;
                let outcome = this.announce_once().await.err().map(|e| e.to_string());
                if last.as_ref() != Some(&outcome) {
                    match &outcome {
                        None => info!(
                            discovery = %this.url(),
                            uri = %this.config.internal_uri,
                            "announced to the coordinator"
                        ),
                        Some(reason) => warn!("announcement failed: {reason}"),
                    }
                    last = Some(outcome);
                }
            }
        })
    }

    /// Tells the coordinator this node is leaving.
    pub async fn leave(&self) {
        let _ = self.sign(self.client.delete(self.url())).send().await;
    }
}
