//! The authentication chain: internal tokens first, then each configured method in order;
//! the first success wins, and a failure reports every method's message.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use tracing::{debug, info, warn};

use crate::config::{AuthenticationType, SecurityConfig};
use crate::internal::{INTERNAL_BEARER_HEADER, InternalAuth};
use crate::jwt::JwtAuthenticator;
use crate::password::PasswordAuthenticator;
use crate::throttle::FailureThrottle;
use crate::{AuthMethod, Principal, SecurityError, UserMapping};

/// The user name of requests from other nodes.
pub const INTERNAL_USER: &str = "<internal>";

const PASSWORD_CHALLENGE: &str = "Basic realm=\"Trino\"";
const JWT_CHALLENGE: &str = "Bearer realm=\"Trino\", token_type=\"JWT\"";

/// What the chain needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// Whether it arrived over TLS (directly, or as a trusted forwarded HTTPS request).
    pub secure: bool,
    /// The client's address, for throttling failures.
    pub client: IpAddr,
}

#[derive(Debug)]
enum Method {
    Password {
        authenticators: Vec<Arc<dyn PasswordAuthenticator>>,
        mapping: UserMapping,
    },
    Jwt {
        authenticator: Arc<JwtAuthenticator>,
        mapping: UserMapping,
    },
}

/// One method's verdict.
enum Verdict {
    /// The request carries no credentials for this method.
    NotApplicable,
    Accepted(Principal),
    Refused(String),
}

/// Authenticates requests as configured.
#[derive(Debug)]
pub struct Authentication {
    methods: Vec<Method>,
    allow_insecure_over_http: bool,
    internal: Option<InternalAuth>,
    throttle: FailureThrottle,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Authentication {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
    }
}

impl Authentication {
    /// Builds the chain; a JWKS URL is fetched now. `node_id` signs this node's internal
    /// tokens.
    pub async fn start(config: SecurityConfig, node_id: &str) -> Result<Self, SecurityError> {
        let mut methods = Vec::new();
        let mut background = Vec::new();
        for kind in &config.types {
            match kind {
                AuthenticationType::Password => methods.push(Method::Password {
                    authenticators: config.password_authenticators.clone(),
                    mapping: config.password_user_mapping.clone(),
                }),
                AuthenticationType::Jwt => {
                    let settings = config.jwt.clone().ok_or_else(|| {
                        SecurityError::config("JWT authentication has no settings")
                    })?;
                    let authenticator = Arc::new(JwtAuthenticator::start(settings).await?);
                    background.extend(authenticator.spawn_refresh());
                    methods.push(Method::Jwt {
                        authenticator,
                        mapping: config.jwt_user_mapping.clone(),
                    });
                }
            }
        }
        let names: Vec<&str> = config
            .types
            .iter()
            .map(|t| match t {
                AuthenticationType::Password => "PASSWORD",
                AuthenticationType::Jwt => "JWT",
            })
            .collect();
        if names.is_empty() {
            info!("security: no client authentication; users are taken from request headers");
        } else {
            info!(
                methods = %names.join(","),
                insecure_http_allowed = config.allow_insecure_over_http,
                "security: client authentication enabled"
            );
        }
        Ok(Authentication {
            methods,
            allow_insecure_over_http: config.allow_insecure_over_http,
            internal: config
                .shared_secret
                .as_deref()
                .map(|secret| InternalAuth::new(secret, node_id)),
            throttle: FailureThrottle::new(config.failure_limit, config.failure_window),
            background,
        })
    }

    /// No authentication at all (the embedded default).
    pub fn disabled() -> Self {
        Authentication {
            methods: vec![],
            allow_insecure_over_http: true,
            internal: None,
            throttle: FailureThrottle::new(0, std::time::Duration::ZERO),
            background: vec![],
        }
    }

    /// Whether clients must authenticate.
    pub fn is_enabled(&self) -> bool {
        !self.methods.is_empty()
    }

    /// The internal token signer, when a shared secret is configured.
    pub fn internal(&self) -> Option<&InternalAuth> {
        self.internal.as_ref()
    }

    /// Checks an internal-only request: it must carry a valid internal token, or, without a
    /// shared secret, it is trusted (a development cluster). Returns the sending node id.
    pub fn authenticate_internal(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<String>, SecurityError> {
        let Some(internal) = &self.internal else {
            return Ok(None);
        };
        let token = headers
            .get(INTERNAL_BEARER_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| SecurityError::Internal("missing internal token".to_string()))?;
        internal
            .verify(token)
            .map(Some)
            .inspect_err(|e| debug!("{e}"))
    }

    /// The principal of a client request; `None` when authentication is off (the caller then
    /// trusts the user header).
    pub async fn authenticate(
        &self,
        request: &AuthRequest<'_>,
    ) -> Result<Option<Principal>, SecurityError> {
        if request.headers.contains_key(INTERNAL_BEARER_HEADER) && self.internal.is_some() {
            let node = self
                .authenticate_internal(request.headers)?
                .unwrap_or_default();
            return Ok(Some(Principal {
                user: INTERNAL_USER.to_string(),
                authenticated_name: node,
                groups: vec![],
                method: AuthMethod::Internal,
            }));
        }
        if self.methods.is_empty() {
            return Ok(None);
        }
        if !request.secure {
            // As in Trino: over plain HTTP only the insecure mode applies (the user header is
            // trusted and passwords are refused), when it is allowed at all.
            return if self.allow_insecure_over_http {
                Ok(None)
            } else {
                Err(SecurityError::InsecureTransport)
            };
        }
        let challenges = self.challenges();
        let mut values = request.headers.get_all(AUTHORIZATION).iter();
        let authorization = match (values.next(), values.next()) {
            (Some(_), Some(_)) => {
                return Err(SecurityError::Unauthenticated {
                    message: "Multiple Authorization headers".to_string(),
                    challenges,
                });
            }
            (Some(value), None) => {
                Some(value.to_str().map_err(|_| SecurityError::Unauthenticated {
                    message: "Malformed Authorization header".to_string(),
                    challenges: challenges.clone(),
                })?)
            }
            _ => None,
        };

        let Some(authorization) = authorization else {
            return Err(SecurityError::Unauthenticated {
                message: "Unauthorized".to_string(),
                challenges,
            });
        };
        self.throttle
            .begin(request.client)
            .map_err(|retry_after| SecurityError::Throttled { retry_after })?;
        let mut messages: Vec<String> = Vec::new();
        for method in &self.methods {
            match method.check(Some(authorization)).await {
                Verdict::NotApplicable => {}
                Verdict::Accepted(principal) => {
                    self.throttle.release(request.client);
                    return Ok(Some(principal));
                }
                Verdict::Refused(message) => {
                    if !messages.contains(&message) {
                        messages.push(message);
                    }
                }
            }
        }
        let message = if messages.is_empty() {
            self.throttle.release(request.client);
            "Unauthorized".to_string()
        } else {
            let message = messages.join(" | ");
            warn!(client = %request.client, reason = ?message, "authentication failed");
            message
        };
        Err(SecurityError::Unauthenticated {
            message,
            challenges,
        })
    }

    fn challenges(&self) -> Vec<&'static str> {
        self.methods
            .iter()
            .map(|m| match m {
                Method::Password { .. } => PASSWORD_CHALLENGE,
                Method::Jwt { .. } => JWT_CHALLENGE,
            })
            .collect()
    }
}

fn scheme_value<'a>(authorization: Option<&'a str>, scheme: &str) -> Option<&'a str> {
    let value = authorization?.trim();
    let (name, rest) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

impl Method {
    async fn check(&self, authorization: Option<&str>) -> Verdict {
        match self {
            Method::Password {
                authenticators,
                mapping,
            } => {
                let Some(encoded) = scheme_value(authorization, "Basic") else {
                    return Verdict::NotApplicable;
                };
                let (user, password) = match password_credentials(encoded) {
                    Ok(pair) => pair,
                    Err(message) => return Verdict::Refused(message),
                };
                let mut failures: Vec<String> = Vec::new();
                for authenticator in authenticators {
                    match authenticator.authenticate(&user, &password).await {
                        Ok(found) => {
                            return mapped(mapping, found.name, found.groups, AuthMethod::Password);
                        }
                        Err(message) => {
                            if !failures.contains(&message) {
                                failures.push(message);
                            }
                        }
                    }
                }
                Verdict::Refused(failures.join(" | "))
            }
            Method::Jwt {
                authenticator,
                mapping,
            } => {
                let Some(token) = scheme_value(authorization, "Bearer") else {
                    return Verdict::NotApplicable;
                };
                match authenticator.authenticate(token).await {
                    Ok(found) => mapped(mapping, found.name, found.groups, AuthMethod::Jwt),
                    Err(message) => Verdict::Refused(message),
                }
            }
        }
    }
}

/// The principal an authenticator found, after user mapping.
fn mapped(mapping: &UserMapping, name: String, groups: Vec<String>, method: AuthMethod) -> Verdict {
    match mapping.map(&name) {
        Ok(user) => Verdict::Accepted(Principal {
            user,
            authenticated_name: name,
            groups,
            method,
        }),
        Err(e) => Verdict::Refused(e.to_string()),
    }
}

/// The user and password of a Basic credential (the part after `Basic `); the password is
/// `None` when the decoded text has no `:`.
pub fn decode_basic(encoded: &str) -> Result<(String, Option<String>), String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "Malformed credentials: invalid base64".to_string())?;
    let text =
        String::from_utf8(bytes).map_err(|_| "Malformed credentials: not UTF-8".to_string())?;
    Ok(match text.split_once(':') {
        Some((user, password)) => (user.to_string(), Some(password.to_string())),
        None => (text, None),
    })
}

/// `user:password` from a Basic credential, both required.
fn password_credentials(encoded: &str) -> Result<(String, String), String> {
    let (user, password) = decode_basic(encoded)?;
    let password = password.ok_or("Malformed decoded credentials")?;
    if user.is_empty() {
        return Err("Malformed credentials: user is empty".to_string());
    }
    if password.is_empty() {
        return Err("Malformed credentials: password is empty".to_string());
    }
    Ok((user, password))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::FileAuthenticator;
    use crate::password::hash::bcrypt_hash;
    use http::HeaderValue;
    use std::time::Duration;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {value}")).unwrap(),
        );
        headers
    }

    #[tokio::test]
    async fn password_chain_transport_and_throttle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password.db");
        std::fs::write(
            &path,
            format!("alice@corp:{}\n", bcrypt_hash("pw", 8).unwrap()),
        )
        .unwrap();
        let file = FileAuthenticator::new(path, Duration::from_secs(5), 100).unwrap();
        let config = SecurityConfig {
            types: vec![AuthenticationType::Password],
            allow_insecure_over_http: false,
            password_authenticators: vec![Arc::new(file)],
            password_user_mapping: UserMapping::pattern("(.*)@corp").unwrap(),
            shared_secret: Some("s".to_string()),
            failure_limit: 2,
            ..SecurityConfig::default()
        };
        let auth = Authentication::start(config, "node").await.unwrap();
        let ok = basic("alice@corp", "pw");
        fn request(headers: &HeaderMap, secure: bool) -> AuthRequest<'_> {
            AuthRequest {
                headers,
                secure,
                client: "127.0.0.2".parse().unwrap(),
            }
        }

        let principal = auth
            .authenticate(&request(&ok, true))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(principal.user, "alice");
        assert_eq!(principal.method, AuthMethod::Password);
        assert!(matches!(
            auth.authenticate(&request(&ok, false)).await,
            Err(SecurityError::InsecureTransport)
        ));
        let none = HeaderMap::new();
        match auth.authenticate(&request(&none, true)).await {
            Err(SecurityError::Unauthenticated {
                message,
                challenges,
            }) => {
                assert_eq!(message, "Unauthorized");
                assert_eq!(challenges, vec![PASSWORD_CHALLENGE]);
            }
            other => panic!("{other:?}"),
        }
        let empty = basic("alice@corp", "");
        let err = auth.authenticate(&request(&empty, true)).await.unwrap_err();
        assert!(err.to_string().contains("password is empty"), "{err}");
        let wrong = basic("alice@corp", "nope");
        assert!(auth.authenticate(&request(&wrong, true)).await.is_err());
        assert!(matches!(
            auth.authenticate(&request(&ok, true)).await,
            Err(SecurityError::Throttled { .. })
        ));

        let internal = InternalAuth::new("s", "worker-1");
        let mut headers = HeaderMap::new();
        headers.insert(
            INTERNAL_BEARER_HEADER,
            HeaderValue::from_str(&internal.token().unwrap()).unwrap(),
        );
        let principal = auth
            .authenticate(&request(&headers, false))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(principal.method, AuthMethod::Internal);
        assert_eq!(principal.authenticated_name, "worker-1");
        let forged = InternalAuth::new("other", "evil");
        headers.insert(
            INTERNAL_BEARER_HEADER,
            HeaderValue::from_str(&forged.token().unwrap()).unwrap(),
        );
        assert!(matches!(
            auth.authenticate(&request(&headers, false)).await,
            Err(SecurityError::Internal(_))
        ));
    }
}
