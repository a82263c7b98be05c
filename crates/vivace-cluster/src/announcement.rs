//! The announcement document, in the shape of airlift's discovery client as Trino sends it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `PUT /v1/announcement/{nodeId}` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Announcement {
    /// The node's `node.environment`.
    pub environment: String,
    /// The node pool (`general`).
    #[serde(default = "general")]
    pub pool: String,
    /// Free-form location (`/{nodeId}`).
    #[serde(default)]
    pub location: Option<String>,
    /// The services the node offers; Vivace nodes offer one of type `trino`.
    pub services: Vec<ServiceAnnouncement>,
}

fn general() -> String {
    "general".to_string()
}

/// One announced service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAnnouncement {
    /// A random id per announcement stream.
    pub id: String,
    /// `trino`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// `node_version`, `coordinator`, `http` or `https`.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl Announcement {
    /// The announcement of a node reachable at `uri`.
    pub fn new(
        environment: &str,
        node_id: &str,
        uri: &str,
        version: &str,
        coordinator: bool,
    ) -> Self {
        let scheme = if uri.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        Announcement {
            environment: environment.to_string(),
            pool: general(),
            location: Some(format!("/{node_id}")),
            services: vec![ServiceAnnouncement {
                id: uuid::Uuid::new_v4().to_string(),
                service_type: "trino".to_string(),
                properties: BTreeMap::from([
                    ("node_version".to_string(), version.to_string()),
                    ("coordinator".to_string(), coordinator.to_string()),
                    (scheme.to_string(), uri.to_string()),
                ]),
            }],
        }
    }

    /// The `trino` service's URI, version and coordinator flag.
    pub fn trino_service(&self) -> Option<(String, String, bool)> {
        let service = self.services.iter().find(|s| s.service_type == "trino")?;
        let uri = service
            .properties
            .get("https")
            .or_else(|| service.properties.get("http"))?
            .trim_end_matches('/')
            .to_string();
        let version = service
            .properties
            .get("node_version")
            .cloned()
            .unwrap_or_default();
        let coordinator = service
            .properties
            .get("coordinator")
            .is_some_and(|c| c == "true");
        Some((uri, version, coordinator))
    }
}
