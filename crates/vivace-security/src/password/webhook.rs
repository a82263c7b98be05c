//! `password-authenticator.name=http`: the custom-authenticator plug point. The user and
//! password are POSTed as JSON to `http.url`; the reply decides.
//!
//! Request: `{"user": "...", "password": "..."}`. Replies:
//! - `200` with `{"principal": "name", "groups": ["g1", ...]}` (both optional; the principal
//!   defaults to the user): accepted.
//! - `401` or `403`, optionally with `{"message": "..."}`: refused, with that message.
//! - anything else, a timeout or no connection: the service is unavailable; the client is
//!   told so and nothing is cached.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tracing::warn;
use vivace_common::PropertyMap;

use super::{PasswordAuthenticator, PasswordError, PasswordPrincipal};
use crate::SecurityError;
use crate::cache::CredentialCache;

/// Delegates password checks to an HTTPS endpoint.
#[derive(Debug)]
pub struct WebhookAuthenticator {
    url: String,
    client: reqwest::Client,
    cache: CredentialCache<PasswordPrincipal>,
}

#[derive(Serialize)]
struct CheckRequest<'a> {
    user: &'a str,
    password: &'a str,
}

#[derive(Deserialize, Default)]
struct CheckReply {
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    message: Option<String>,
}

impl WebhookAuthenticator {
    /// Reads `http.url`, `http.timeout` (5s), `http.cache-ttl` (1m), `http.cache-max-size`
    /// (1000), `http.trust-store-path` (PEM CAs to trust besides the system's) and
    /// `http.allow-insecure` (allow an `http://` URL).
    pub fn from_properties(props: &mut PropertyMap) -> Result<Self, SecurityError> {
        let source = props.source_name().to_string();
        let url = props.require_string("http.url")?;
        let allow_insecure = props.take_bool("http.allow-insecure")?.unwrap_or(false);
        let acceptable =
            url.starts_with("https://") || (allow_insecure && url.starts_with("http://"));
        if !acceptable {
            return Err(SecurityError::config(format!(
                "{source}: http.url must be an https:// URL (or http:// with http.allow-insecure=true), got {url}"
            )));
        }
        let timeout = props
            .take_duration("http.timeout")?
            .unwrap_or(Duration::from_secs(5));
        let ttl = props
            .take_duration("http.cache-ttl")?
            .unwrap_or(Duration::from_secs(60));
        let size = props
            .take_parsed::<usize>("http.cache-max-size")?
            .unwrap_or(1000);
        let trust = props
            .take_string("http.trust-store-path")
            .map(PathBuf::from);
        let client = crate::tls::http_client(trust.as_deref(), timeout, !allow_insecure)?;
        Ok(WebhookAuthenticator {
            url,
            client,
            cache: CredentialCache::new(ttl, size),
        })
    }
}

#[async_trait]
impl PasswordAuthenticator for WebhookAuthenticator {
    async fn authenticate(
        &self,
        user: &str,
        password: &str,
    ) -> Result<PasswordPrincipal, PasswordError> {
        let key = CredentialCache::<PasswordPrincipal>::key(user, password);
        if let Some(principal) = self.cache.get(&key) {
            return Ok(principal);
        }
        let unavailable = |reason: String| {
            warn!(url = %self.url, "password authentication service unavailable: {reason}");
            PasswordError::unavailable(format!(
                "Password authentication service is unavailable: {reason}"
            ))
        };
        let response = self
            .client
            .post(&self.url)
            .json(&CheckRequest { user, password })
            .send()
            .await
            .map_err(|e| {
                unavailable(if e.is_timeout() {
                    "no answer in time".to_string()
                } else {
                    // Only the kind of failure: reqwest errors can carry the URL but never the body.
                    e.without_url().to_string()
                })
            })?;
        let status = response.status();
        let reply: CheckReply = if status.is_success() {
            response
                .json()
                .await
                .map_err(|e| unavailable(format!("malformed reply: {}", e.without_url())))?
        } else {
            response.json().await.unwrap_or_default()
        };
        match status.as_u16() {
            200..=299 => {
                let principal = PasswordPrincipal {
                    name: reply.principal.unwrap_or_else(|| user.to_string()),
                    groups: reply.groups,
                };
                self.cache.insert(key, principal.clone());
                Ok(principal)
            }
            401 | 403 => Err(PasswordError::refused(format!(
                "Access Denied: {}",
                reply
                    .message
                    .unwrap_or_else(|| "Invalid credentials".to_string())
            ))),
            other => Err(unavailable(format!("HTTP status {other}"))),
        }
    }
}
