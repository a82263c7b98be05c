//! Security settings from `config.properties`, plus the password authenticator files they
//! point to, validated at startup.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vivace_common::PropertyMap;

use crate::jwt::JwtSettings;
use crate::password::{self, PasswordAuthenticator};
use crate::{SecurityError, UserMapping};

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
    /// `http-server.authentication.password.user-mapping.*`.
    pub password_user_mapping: UserMapping,
    /// `http-server.authentication.jwt.*`, when JWT is on.
    pub jwt: Option<JwtSettings>,
    /// `http-server.authentication.jwt.user-mapping.*`.
    pub jwt_user_mapping: UserMapping,
    /// `internal-communication.shared-secret`.
    pub shared_secret: Option<String>,
    /// `http-server.authentication.failure-limit`: failures per address per window before
    /// its attempts are refused (0 turns this off).
    pub failure_limit: u32,
    /// `http-server.authentication.failure-window`.
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
            .finish_non_exhaustive()
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            types: vec![],
            allow_insecure_over_http: true,
            password_authenticators: vec![],
            password_user_mapping: UserMapping::Identity,
            jwt: None,
            jwt_user_mapping: UserMapping::Identity,
            shared_secret: None,
            failure_limit: 10,
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
        if let Some(limit) = props.take_parsed("http-server.authentication.failure-limit")? {
            config.failure_limit = limit;
        }
        if let Some(window) = props.take_duration("http-server.authentication.failure-window")? {
            config.failure_window = window;
        }

        if enabled && config.shared_secret.is_none() {
            return Err(SecurityError::config(format!(
                "{source}: Shared secret (internal-communication.shared-secret) is required when authentication is enabled"
            )));
        }

        let config_files = props.take_string("password-authenticator.config-files");
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
