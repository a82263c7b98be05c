//! Password authenticators, configured by `etc/password-authenticator.properties` (or the
//! files listed in `password-authenticator.config-files`), selected by
//! `password-authenticator.name`.

mod file;
pub mod hash;
mod ldap;
mod webhook;

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use vivace_common::PropertyMap;

pub use file::FileAuthenticator;
pub use ldap::LdapAuthenticator;
pub use webhook::WebhookAuthenticator;

use crate::SecurityError;

/// Who a password check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPrincipal {
    /// The principal name, before user mapping.
    pub name: String,
    /// Groups the checker reported.
    pub groups: Vec<String>,
}

/// Checks a user's password.
#[async_trait]
pub trait PasswordAuthenticator: Send + Sync + Debug {
    /// `Ok` with the principal when the password is right; `Err` with the message for the
    /// client (never containing the password) otherwise.
    async fn authenticate(&self, user: &str, password: &str) -> Result<PasswordPrincipal, String>;
}

/// Builds the authenticator one properties file describes; every key must be used.
pub fn from_file(path: &Path) -> Result<Arc<dyn PasswordAuthenticator>, SecurityError> {
    let mut props = PropertyMap::load(path)?;
    let name = props.require_string("password-authenticator.name")?;
    let authenticator: Arc<dyn PasswordAuthenticator> = match name.as_str() {
        "file" => Arc::new(FileAuthenticator::from_properties(&mut props)?),
        "ldap" => Arc::new(LdapAuthenticator::from_properties(&mut props)?),
        "http" => Arc::new(WebhookAuthenticator::from_properties(&mut props)?),
        other => {
            return Err(SecurityError::config(format!(
                "{}: unknown password-authenticator.name '{other}' (expected file, ldap or http)",
                path.display()
            )));
        }
    };
    props.finish()?;
    Ok(authenticator)
}
