//! Security settings from `config.properties`, plus the password authenticator files they
//! point to, validated at startup.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vivace_common::PropertyMap;
use vivace_common::properties::parse_duration;

use crate::jwt::JwtSettings;
use crate::password::{self, PasswordAuthenticator};
use crate::throttle::ADDRESS_LIMIT_FACTOR;
use crate::{SecurityError, UserMapping};

/// `http-server.authentication.failure-limit` when it is not set.
const DEFAULT_FAILURE_LIMIT: u32 = 10;

/// The longest `http-server.authentication.failure-window`.
const MAX_FAILURE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// One entry of `http-server.authentication.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationType {
    /// `PASSWORD`: HTTP Basic checked by the password authenticators.
    Password,
    /// `JWT`: `Authorization: Bearer` tokens.
    Jwt,
}

impl AuthenticationType {
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PASSWORD" => Ok(AuthenticationType::Password),
            "JWT" => Ok(AuthenticationType::Jwt),
            other @ ("CERTIFICATE" | "OAUTH2" | "KERBEROS" | "HEADER") => Err(format!(
                "authentication type {other} is not supported yet; use PASSWORD and/or JWT"
            )),
            other => Err(format!(
                "unknown authentication type '{other}' (expected PASSWORD or JWT)"
            )),
        }
    }
}

/// Everything needed to authenticate requests.
#[derive(Clone)]
pub struct SecurityConfig {
    /// `http-server.authentication.type`, in order; empty means no authentication.
    pub types: Vec<AuthenticationType>,
    /// `http-server.authentication.allow-insecure-over-http` (default: true only without
    /// authentication).
    pub allow_insecure_over_http: bool,
    /// The password authenticators, tried in order.
    pub password_authenticators: Vec<Arc<dyn PasswordAuthenticator>>,
    /// The files they were configured from (empty without PASSWORD authentication).
    pub password_authenticator_files: Vec<PathBuf>,
    /// `http-server.authentication.password.user-mapping.*`.
    pub password_user_mapping: UserMapping,
    /// `http-server.authentication.jwt.*`, when JWT is on.
    pub jwt: Option<JwtSettings>,
    /// `http-server.authentication.jwt.user-mapping.*`.
    pub jwt_user_mapping: UserMapping,
    /// `internal-communication.shared-secret`.
    pub shared_secret: Option<String>,
    /// `http-server.authentication.failure-limit`: failed logins per client address and user
    /// name within the window before that user's attempts from that address are refused
    /// (default 10; 0 turns this rule off).
    pub failure_limit: u32,
    /// `http-server.authentication.failure-limit-per-address`: failed logins of any users from
    /// one client address within the window before the address is braked, letting only users
    /// who logged in from it before through (default ten times `failure-limit`; 0 turns the
    /// brake off).
    pub failure_limit_per_address: u32,
    /// `http-server.authentication.failure-window`: how long failures are remembered
    /// (default 1m, at most 1d).
    pub failure_window: Duration,
}

impl std::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("types", &self.types)
            .field("allow_insecure_over_http", &self.allow_insecure_over_http)
            .field(
                "password_authenticators",
                &self.password_authenticators.len(),
            )
            .field("jwt", &self.jwt)
            .field("shared_secret", &self.shared_secret.as_ref().map(|_| "***"))
            .field("failure_limit", &self.failure_limit)
            .field("failure_limit_per_address", &self.failure_limit_per_address)
            .field("failure_window", &self.failure_window)
            .finish_non_exhaustive()
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            types: vec![],
            allow_insecure_over_http: true,
            password_authenticators: vec![],
            password_authenticator_files: vec![],
            password_user_mapping: UserMapping::Identity,
            jwt: None,
            jwt_user_mapping: UserMapping::Identity,
            shared_secret: None,
            failure_limit: DEFAULT_FAILURE_LIMIT,
            failure_limit_per_address: DEFAULT_FAILURE_LIMIT * ADDRESS_LIMIT_FACTOR,
            failure_window: Duration::from_secs(60),
        }
    }
}

fn take_user_mapping(props: &mut PropertyMap, kind: &str) -> Result<UserMapping, SecurityError> {
    let pattern_key = format!("http-server.authentication.{kind}.user-mapping.pattern");
    let file_key = format!("http-server.authentication.{kind}.user-mapping.file");
    let pattern = props.take_with(&pattern_key, UserMapping::pattern)?;
    let file = props.take_with(&file_key, |f| UserMapping::rules_file(Path::new(f)))?;
    match (pattern, file) {
        (Some(_), Some(_)) => Err(SecurityError::config(format!(
            "{}: set {pattern_key} or {file_key}, not both",
            props.source_name()
        ))),
        (Some(mapping), None) | (None, Some(mapping)) => Ok(mapping),
        (None, None) => Ok(UserMapping::Identity),
    }
}

/// The failure throttle's properties, checked together.
fn take_throttle(
    props: &mut PropertyMap,
    config: &mut SecurityConfig,
) -> Result<(), SecurityError> {
    const LIMIT: &str = "http-server.authentication.failure-limit";
    const PER_ADDRESS: &str = "http-server.authentication.failure-limit-per-address";
    const WINDOW: &str = "http-server.authentication.failure-window";
    if let Some(limit) = props.take_parsed(LIMIT)? {
        config.failure_limit = limit;
    }
    config.failure_limit_per_address = match props.take_parsed::<u32>(PER_ADDRESS)? {
        Some(limit) => {
            if limit != 0 && config.failure_limit != 0 && limit < config.failure_limit {
                return Err(SecurityError::config(format!(
                    "{}: {PER_ADDRESS} ({limit}) must not be lower than {LIMIT} ({}), or 0 to turn the per-address brake off",
                    props.source_name(),
                    config.failure_limit
                )));
            }
            limit
        }
        None => config.failure_limit.saturating_mul(ADDRESS_LIMIT_FACTOR),
    };
    if let Some(window) = props.take_with(WINDOW, |text| {
        let window = parse_duration(text)?;
        if window.is_zero() {
            Err(
                "the window must be longer than 0s (set the limits to 0 to turn throttling off)"
                    .to_string(),
            )
        } else if window > MAX_FAILURE_WINDOW {
            Err("the window must not be longer than 1d".to_string())
        } else {
            Ok(window)
        }
    })? {
        config.failure_window = window;
    }
    Ok(())
}

impl SecurityConfig {
    /// Takes the security keys from `config.properties`. `etc` is the configuration
    /// directory, where `password-authenticator.properties` is looked for.
    pub fn take_properties(
        props: &mut PropertyMap,
        etc: Option<&Path>,
    ) -> Result<Self, SecurityError> {
        let source = props.source_name().to_string();
        let mut config = SecurityConfig::default();
        if let Some(types) = props.take_with("http-server.authentication.type", |text| {
            text.split(',')
                .filter(|t| !t.trim().is_empty())
                .map(AuthenticationType::parse)
                .collect::<Result<Vec<_>, _>>()
        })? {
            config.types = types;
        }
        config.types.dedup();
        let enabled = !config.types.is_empty();
        config.allow_insecure_over_http = props
            .take_bool("http-server.authentication.allow-insecure-over-http")?
            .unwrap_or(!enabled);
        config.password_user_mapping = take_user_mapping(props, "password")?;
        config.jwt_user_mapping = take_user_mapping(props, "jwt")?;
        config.shared_secret = props
            .take_string("internal-communication.shared-secret")
            .filter(|s| !s.is_empty());
        take_throttle(props, &mut config)?;

        if enabled && config.shared_secret.is_none() {
            return Err(SecurityError::config(format!(
                "{source}: Shared secret (internal-communication.shared-secret) is required when authentication is enabled"
            )));
        }

        let config_files = props.take_string("password-authenticator.config-files");
        if config_files.is_some() && !config.types.contains(&AuthenticationType::Password) {
            return Err(SecurityError::config(format!(
                "{source}: password-authenticator.config-files is set but \
                 http-server.authentication.type does not include PASSWORD, so no password \
                 would be checked"
            )));
        }
        if config.types.contains(&AuthenticationType::Password) {
            let files: Vec<PathBuf> = match config_files {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(PathBuf::from)
                    .collect(),
                None => {
                    let default = etc
                        .map(|dir| dir.join("password-authenticator.properties"))
                        .ok_or_else(|| {
                            SecurityError::config(format!(
                                "{source}: PASSWORD authentication needs password-authenticator.config-files"
                            ))
                        })?;
                    vec![default]
                }
            };
            if files.is_empty() {
                return Err(SecurityError::config(format!(
                    "{source}: password-authenticator.config-files is empty"
                )));
            }
            config.password_authenticators = files
                .iter()
                .map(|file| password::from_file(file))
                .collect::<Result<_, _>>()?;
            config.password_authenticator_files = files;
        }

        let jwt_key_file = props.take_string("http-server.authentication.jwt.key-file");
        let jwt = JwtSettings {
            key_file: jwt_key_file.clone().unwrap_or_default(),
            required_issuer: props.take_string("http-server.authentication.jwt.required-issuer"),
            required_audience: props
                .take_string("http-server.authentication.jwt.required-audience"),
            principal_field: props
                .take_string("http-server.authentication.jwt.principal-field")
                .unwrap_or_else(|| "sub".to_string()),
            groups_field: props.take_string("http-server.authentication.jwt.groups-field"),
            clock_skew: props
                .take_duration("http-server.authentication.jwt.clock-skew")?
                .unwrap_or(Duration::ZERO),
            require_expiration: props
                .take_bool("http-server.authentication.jwt.require-expiration")?
                .unwrap_or(false),
            jwks_refresh_period: props
                .take_duration("http-server.authentication.jwt.jwks-refresh-period")?
                .unwrap_or(Duration::from_secs(900)),
            trust_store: props
                .take_string("http-server.authentication.jwt.http-client.trust-store-path")
                .map(PathBuf::from),
        };
        if config.types.contains(&AuthenticationType::Jwt) {
            if jwt_key_file.is_none() {
                return Err(SecurityError::config(format!(
                    "{source}: JWT authentication needs http-server.authentication.jwt.key-file"
                )));
            }
            config.jwt = Some(jwt);
        }

        Ok(config)
    }

    /// Whether any client authentication is configured.
    pub fn is_enabled(&self) -> bool {
        !self.types.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(text: &str) -> Result<SecurityConfig, SecurityError> {
        let mut props = PropertyMap::parse(Path::new("config.properties"), text, &|_| None)?;
        SecurityConfig::take_properties(&mut props, None)
    }

    #[test]
    fn throttle_defaults_and_properties() {
        let config = take("").unwrap();
        assert_eq!(config.failure_limit, 10);
        assert_eq!(config.failure_limit_per_address, 100);
        assert_eq!(config.failure_window, Duration::from_secs(60));

        let config = take("http-server.authentication.failure-limit=4\n").unwrap();
        assert_eq!(config.failure_limit_per_address, 40);
        let config = take(
            "http-server.authentication.failure-limit=4\n\
             http-server.authentication.failure-limit-per-address=15\n\
             http-server.authentication.failure-window=5m\n",
        )
        .unwrap();
        assert_eq!(
            (
                config.failure_limit,
                config.failure_limit_per_address,
                config.failure_window
            ),
            (4, 15, Duration::from_secs(300))
        );
        let config = take("http-server.authentication.failure-limit=0\n").unwrap();
        assert_eq!(config.failure_limit_per_address, 0);
        let config = take(
            "http-server.authentication.failure-limit=0\n\
             http-server.authentication.failure-limit-per-address=50\n",
        )
        .unwrap();
        assert_eq!(config.failure_limit_per_address, 50);
    }

    #[test]
    fn password_files_without_password_authentication_are_an_error() {
        let message = take("password-authenticator.config-files=/etc/vivace/pw.properties\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("does not include PASSWORD"), "{message}");
    }

    #[test]
    fn throttle_properties_are_validated() {
        for (text, needle) in [
            (
                "http-server.authentication.failure-limit=-1\n",
                "failure-limit",
            ),
            (
                "http-server.authentication.failure-limit-per-address=x\n",
                "failure-limit-per-address",
            ),
            (
                "http-server.authentication.failure-limit=10\n\
                 http-server.authentication.failure-limit-per-address=5\n",
                "must not be lower than",
            ),
            (
                "http-server.authentication.failure-window=0s\n",
                "longer than 0s",
            ),
            (
                "http-server.authentication.failure-window=2d\n",
                "not be longer than 1d",
            ),
            (
                "http-server.authentication.failure-window=soon\n",
                "failure-window",
            ),
        ] {
            let message = take(text).unwrap_err().to_string();
            assert!(message.contains(needle), "{text}: {message}");
            assert!(message.contains("config.properties"), "{text}: {message}");
        }
    }
}
