//! A worker's announcements to the coordinator's discovery service.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tracing::{info, warn};
use vivace_security::InternalAuth;

use crate::{Announcement, ClusterConfig, ClusterError};

/// Announces this node every interval; unannounces on [`Announcer::leave`].
#[derive(Debug)]
pub struct Announcer {
    config: ClusterConfig,
    version: String,
    /// The URI announced, and its announcement.
    announcement: Mutex<(String, Announcement)>,
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
            announcement: Mutex::new((config.internal_uri.clone(), announcement)),
            version: version.to_string(),
            config,
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

    /// The announcement to send, with this node's address looked up again when it follows the
    /// route to the coordinator.
    fn current_announcement(&self) -> Announcement {
        let mut current = self.announcement.lock();
        if self.config.follow_route_address {
            let discovery = self.config.discovery_uri.as_deref().unwrap_or_default();
            let fresh = crate::route_address(discovery)
                .and_then(|address| crate::with_host(&current.0, address));
            if let Some(uri) = fresh.filter(|uri| *uri != current.0) {
                info!(old = %current.0, new = %uri, "this node's address changed");
                let announcement = Announcement::new(
                    &self.config.environment,
                    &self.config.node_id,
                    &uri,
                    &self.version,
                    false,
                );
                *current = (uri, announcement);
            }
        }
        current.1.clone()
    }

    /// The URI this node announces.
    pub fn announced_uri(&self) -> String {
        self.announcement.lock().0.clone()
    }

    /// Sends one announcement; the error names why the coordinator refused it.
    pub async fn announce_once(&self) -> Result<(), ClusterError> {
        let announcement = self.current_announcement();
        let response = self
            .sign(self.client.put(self.url()).json(&announcement))
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
                            uri = %this.announced_uri(),
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
