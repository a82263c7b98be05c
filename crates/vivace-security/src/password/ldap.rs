//! `password-authenticator.name=ldap`: a bind as the user proves the password, optionally with
//! a group-membership search, or a service account that finds the user's DN first.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use tracing::{debug, warn};
use vivace_common::PropertyMap;

use super::{PasswordAuthenticator, PasswordError, PasswordPrincipal};
use crate::SecurityError;
use crate::cache::CredentialCache;
use crate::tls;

/// Characters Trino refuses in LDAP user names, so that a name cannot change a DN or filter.
const SPECIAL_CHARACTERS: &[char] = &[
    ',', '=', '+', '<', '>', '#', ';', '*', '(', ')', '"', '\\', '\0',
];

/// Authenticates against an LDAP server.
pub struct LdapAuthenticator {
    url: String,
    settings: LdapConnSettings,
    bind_patterns: Vec<String>,
    user_base_dn: Option<String>,
    group_auth_pattern: Option<String>,
    service_account: Option<(String, String)>,
    operation_timeout: Duration,
    cache: CredentialCache<PasswordPrincipal>,
}

impl std::fmt::Debug for LdapAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapAuthenticator")
            .field("url", &self.url)
            .field("bind_patterns", &self.bind_patterns)
            .field("user_base_dn", &self.user_base_dn)
            .finish_non_exhaustive()
    }
}

impl LdapAuthenticator {
    /// Reads the `ldap.*` properties.
    pub fn from_properties(props: &mut PropertyMap) -> Result<Self, SecurityError> {
        let source = props.source_name().to_string();
        let url = props.require_string("ldap.url")?;
        let allow_insecure = props.take_bool("ldap.allow-insecure")?.unwrap_or(false);
        let secure = url.starts_with("ldaps://");
        if !secure && !url.starts_with("ldap://") {
            return Err(SecurityError::config(format!(
                "{source}: ldap.url must start with ldaps:// or ldap://, got {url}"
            )));
        }
        if !secure && !allow_insecure {
            return Err(SecurityError::config(format!(
                "{source}: ldap.url {url} is not encrypted; use ldaps:// or set ldap.allow-insecure=true"
            )));
        }
        let connect_timeout = props
            .take_duration("ldap.timeout.connect")?
            .unwrap_or(Duration::from_secs(60));
        let operation_timeout = props
            .take_duration("ldap.timeout.read")?
            .unwrap_or(Duration::from_secs(60));
        let mut settings = LdapConnSettings::new().set_conn_timeout(connect_timeout);
        if let Some(truststore) = props.take_string("ldap.ssl.truststore.path") {
            let roots = tls::load_root_store(&PathBuf::from(&truststore))?;
            settings = settings.set_config(Arc::new(tls::client_config(roots)?));
        }
        let bind_patterns: Vec<String> = props
            .take_string("ldap.user-bind-pattern")
            .map(|p| {
                p.split(':')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let user_base_dn = props.take_string("ldap.user-base-dn");
        let group_auth_pattern = props.take_string("ldap.group-auth-pattern");
        let bind_dn = props.take_string("ldap.bind-dn");
        let bind_password = props.take_string("ldap.bind-password");
        let service_account = match (bind_dn, bind_password) {
            (Some(dn), Some(password)) => Some((dn, password)),
            (None, None) => None,
            _ => {
                return Err(SecurityError::config(format!(
                    "{source}: ldap.bind-dn and ldap.bind-password must be set together"
                )));
            }
        };
        if service_account.is_some() {
            if user_base_dn.is_none() || group_auth_pattern.is_none() {
                return Err(SecurityError::config(format!(
                    "{source}: ldap.bind-dn needs ldap.user-base-dn and ldap.group-auth-pattern to find users"
                )));
            }
        } else if bind_patterns.is_empty() {
            return Err(SecurityError::config(format!(
                "{source}: set ldap.user-bind-pattern, or ldap.bind-dn with ldap.group-auth-pattern"
            )));
        }
        if group_auth_pattern.is_some() && user_base_dn.is_none() {
            return Err(SecurityError::config(format!(
                "{source}: ldap.group-auth-pattern needs ldap.user-base-dn"
            )));
        }
        let cache_ttl = props
            .take_duration("ldap.cache-ttl")?
            .unwrap_or(Duration::from_secs(3600));
        // Accepted for Trino compatibility; referrals are never followed.
        props.take_bool("ldap.ignore-referrals")?;
        Ok(LdapAuthenticator {
            url,
            settings,
            bind_patterns,
            user_base_dn,
            group_auth_pattern,
            service_account,
            operation_timeout,
            cache: CredentialCache::new(cache_ttl, 1000),
        })
    }

    async fn check(&self, user: &str, password: &str) -> Result<(), PasswordError> {
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings.clone(), &self.url)
            .await
            .map_err(|e| unavailable(format!("cannot connect to {}: {e}", self.url)))?;
        ldap3::drive!(conn);
        let result = self.check_on(&mut ldap, user, password).await;
        let _ = ldap.unbind().await;
        result
    }

    async fn check_on(
        &self,
        ldap: &mut ldap3::Ldap,
        user: &str,
        password: &str,
    ) -> Result<(), PasswordError> {
        let invalid = || PasswordError::refused("Access Denied: Invalid credentials");
        if let Some((service_dn, service_password)) = &self.service_account {
            ldap.simple_bind(service_dn, service_password)
                .await
                .and_then(|r| r.success())
                .map_err(|e| unavailable(format!("service account bind failed: {e}")))?;
            let dns = self.search_group_members(ldap, user).await?;
            // Before the password is proven, the client learns nothing about the directory.
            let dn = match dns.as_slice() {
                [dn] => dn.clone(),
                [] => {
                    debug!(user = ?user, "LDAP: no authorized entry for the user");
                    return Err(invalid());
                }
                _ => {
                    warn!(user = ?user, "LDAP: several entries match ldap.group-auth-pattern");
                    return Err(invalid());
                }
            };
            return ldap
                .simple_bind(&dn, password)
                .await
                .and_then(|r| r.success())
                .map(|_| ())
                .map_err(|e| {
                    debug!(dn = ?dn, "LDAP bind failed: {e}");
                    invalid()
                });
        }
        let escaped = ldap3::dn_escape(user);
        let mut bound = false;
        for pattern in &self.bind_patterns {
            let dn = pattern.replace("${USER}", &escaped);
            match ldap
                .simple_bind(&dn, password)
                .await
                .and_then(|r| r.success())
            {
                Ok(_) => {
                    bound = true;
                    break;
                }
                Err(e) => debug!(dn = ?dn, "LDAP bind failed: {e}"),
            }
        }
        if !bound {
            return Err(invalid());
        }
        if self.group_auth_pattern.is_some()
            && self.search_group_members(ldap, user).await?.is_empty()
        {
            return Err(PasswordError::refused(format!(
                "Access Denied: User [{user}] not a member of an authorized group"
            )));
        }
        Ok(())
    }

    /// DNs matching `ldap.group-auth-pattern` for the user under `ldap.user-base-dn`.
    async fn search_group_members(
        &self,
        ldap: &mut ldap3::Ldap,
        user: &str,
    ) -> Result<Vec<String>, PasswordError> {
        let (Some(base), Some(pattern)) = (&self.user_base_dn, &self.group_auth_pattern) else {
            return Ok(vec![]);
        };
        let filter = pattern.replace("${USER}", &ldap3::ldap_escape(user));
        let (entries, _) = ldap
            .search(base, Scope::Subtree, &filter, vec!["1.1"])
            .await
            .and_then(|r| r.success())
            .map_err(|e| unavailable(format!("search under {base} failed: {e}")))?;
        Ok(entries
            .into_iter()
            .map(|e| SearchEntry::construct(e).dn)
            .collect())
    }
}

/// Logs why the directory could not be used; the client only learns that it is unavailable.
fn unavailable(detail: String) -> PasswordError {
    warn!("LDAP authentication unavailable: {detail}");
    PasswordError::unavailable("Password authentication service is unavailable")
}

#[async_trait]
impl PasswordAuthenticator for LdapAuthenticator {
    async fn authenticate(
        &self,
        user: &str,
        password: &str,
    ) -> Result<PasswordPrincipal, PasswordError> {
        if user.contains(SPECIAL_CHARACTERS) {
            return Err(PasswordError::refused(
                "Access Denied: Username contains a special LDAP character",
            ));
        }
        if password.is_empty() {
            return Err(PasswordError::refused("Access Denied: Invalid credentials"));
        }
        let key = CredentialCache::<PasswordPrincipal>::key(user, password);
        if let Some(principal) = self.cache.get(&key) {
            return Ok(principal);
        }
        tokio::time::timeout(self.operation_timeout, self.check(user, password))
            .await
            .map_err(|_| unavailable(format!("{} did not answer in time", self.url)))??;
        let principal = PasswordPrincipal {
            name: user.to_string(),
            groups: vec![],
        };
        self.cache.insert(key, principal.clone());
        Ok(principal)
    }
}
