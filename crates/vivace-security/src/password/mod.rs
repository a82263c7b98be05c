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

/// Why a password check did not accept the credentials. The message is for the client: it
/// never contains the password, nor addresses or paths of the server's own services.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PasswordError {
    message: String,
    unavailable: bool,
}

impl PasswordError {
    /// The credentials are wrong, or the user may not log in: a failed attempt.
    pub fn refused(message: impl Into<String>) -> Self {
        PasswordError {
            message: message.into(),
            unavailable: false,
        }
    }

    /// The checker could not decide (its directory or service is down or slow): not a failed
    /// attempt of the client's, so it is not counted by the failure throttle.
    pub fn unavailable(message: impl Into<String>) -> Self {
        PasswordError {
            message: message.into(),
            unavailable: true,
        }
    }

    /// The message for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the checker could not decide.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

/// Checks a user's password.
#[async_trait]
pub trait PasswordAuthenticator: Send + Sync + Debug {
    /// `Ok` with the principal when the password is right; otherwise why not.
    async fn authenticate(
        &self,
        user: &str,
        password: &str,
    ) -> Result<PasswordPrincipal, PasswordError>;
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
