//! The authentication chain: internal tokens first, then each configured method in order;
//! the first success wins, and a failure reports every method's message.
//!
//! Failed attempts are throttled (see `throttle.rs` for the rules):
//! - Basic credentials are counted per client address and the user name they carry (before
//!   user mapping); undecodable ones toward the address's brake only. A success marks the user
//!   as known at that address, so the brake keeps letting them in.
//! - Bearer tokens are never refused by the throttle: a valid signature cannot be guessed, so
//!   checking a token gives an attacker nothing, and refusing valid tokens while an address is
//!   braked would lock out the very users the brake must spare. The token's subject is not
//!   used as a key: it is unverified, attacker-chosen text, and counting under it would let
//!   anyone lock a user out by naming them. Failed tokens count toward the address's brake,
//!   so a client that sends bad tokens of any kind is slowed like one that sends bad passwords.
//! - Checks that could not decide (a password service that is down) are not counted.

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
use crate::throttle::{FailureThrottle, ThrottleLimits};
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
    /// The credentials are wrong: a failed attempt.
    Refused(String),
    /// The method could not decide (its service is unavailable): not counted as a failure.
    Unavailable(String),
}

/// Whose attempt a request is, for the failure throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    /// Basic credentials: the user name, `None` when it cannot be read.
    Password(Option<String>),
    /// A bearer token.
    Token,
    /// Another scheme, which no method checks.
    Other,
}

impl Attempt {
    fn of(authorization: &str) -> Self {
        if let Some(encoded) = scheme_value(Some(authorization), "Basic") {
            Attempt::Password(
                decode_basic(encoded)
                    .ok()
                    .map(|(user, _)| user)
                    .filter(|user| !user.is_empty()),
            )
        } else if scheme_value(Some(authorization), "Bearer").is_some() {
            Attempt::Token
        } else {
            Attempt::Other
        }
    }
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
            throttle: FailureThrottle::new(ThrottleLimits {
                per_user: config.failure_limit,
                per_address: config.failure_limit_per_address,
                window: config.failure_window,
            }),
            background,
        })
    }

    /// No authentication at all (the embedded default).
    pub fn disabled() -> Self {
        Authentication {
            methods: vec![],
            allow_insecure_over_http: true,
            internal: None,
            throttle: FailureThrottle::new(ThrottleLimits {
                per_user: 0,
                per_address: 0,
                window: std::time::Duration::ZERO,
            }),
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
        let attempt = Attempt::of(authorization);
        if let Attempt::Password(user) = &attempt {
            self.throttle
                .admit(request.client, user.as_deref())
                .map_err(|retry_after| SecurityError::Throttled { retry_after })?;
        }
        let mut messages: Vec<String> = Vec::new();
        let mut refused = false;
        for method in &self.methods {
            let message = match method.check(Some(authorization)).await {
                Verdict::NotApplicable => continue,
                Verdict::Accepted(principal) => {
                    if let Attempt::Password(Some(user)) = &attempt {
                        self.throttle.succeeded(request.client, user);
                    }
                    return Ok(Some(principal));
                }
                Verdict::Refused(message) => {
                    refused = true;
                    message
                }
                Verdict::Unavailable(message) => message,
            };
            if !messages.contains(&message) {
                messages.push(message);
            }
        }
        let message = if messages.is_empty() {
            "Unauthorized".to_string()
        } else {
            let message = messages.join(" | ");
            warn!(client = %request.client, reason = ?message, "authentication failed");
            message
        };
        if refused {
            match &attempt {
                Attempt::Password(user) => self.throttle.failed(request.client, user.as_deref()),
                Attempt::Token => self.throttle.failed(request.client, None),
                Attempt::Other => {}
            }
        }
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
                let mut refused = false;
                for authenticator in authenticators {
                    match authenticator.authenticate(&user, &password).await {
                        Ok(found) => {
                            return mapped(mapping, found.name, found.groups, AuthMethod::Password);
                        }
                        Err(error) => {
                            refused |= !error.is_unavailable();
                            let message = error.message().to_string();
                            if !failures.contains(&message) {
                                failures.push(message);
                            }
                        }
                    }
                }
                // A wrong password for one checker counts even when another is down: an
                // outage must not give guesses against the others for free.
                if refused || failures.is_empty() {
                    Verdict::Refused(failures.join(" | "))
                } else {
                    Verdict::Unavailable(failures.join(" | "))
                }
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

    /// A password checker whose service is down.
    #[derive(Debug)]
    struct Down;

    #[async_trait::async_trait]
    impl PasswordAuthenticator for Down {
        async fn authenticate(
            &self,
            _user: &str,
            _password: &str,
        ) -> Result<crate::password::PasswordPrincipal, crate::password::PasswordError> {
            Err(crate::password::PasswordError::unavailable(
                "Password authentication service is unavailable",
            ))
        }
    }

    const HMAC_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// A chain with a password file (alice, bob, carol: password `pw`), an HMAC JWT key and
    /// the given limits; the directory must outlive it.
    async fn throttled_chain(
        per_user: u32,
        per_address: u32,
        extra: Vec<Arc<dyn PasswordAuthenticator>>,
    ) -> (tempfile::TempDir, Arc<Authentication>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password.db");
        let hash = bcrypt_hash("pw", 8).unwrap();
        std::fs::write(&path, format!("alice:{hash}\nbob:{hash}\ncarol:{hash}\n")).unwrap();
        let key = dir.path().join("jwt.key");
        std::fs::write(
            &key,
            base64::engine::general_purpose::STANDARD.encode(HMAC_SECRET),
        )
        .unwrap();
        let file = FileAuthenticator::new(path, Duration::from_secs(5), 100).unwrap();
        let mut authenticators: Vec<Arc<dyn PasswordAuthenticator>> = vec![Arc::new(file)];
        authenticators.extend(extra);
        let config = SecurityConfig {
            types: vec![AuthenticationType::Password, AuthenticationType::Jwt],
            allow_insecure_over_http: false,
            password_authenticators: authenticators,
            jwt: Some(crate::jwt::JwtSettings {
                key_file: key.display().to_string(),
                required_issuer: None,
                required_audience: None,
                principal_field: "sub".to_string(),
                groups_field: None,
                clock_skew: Duration::ZERO,
                require_expiration: false,
                jwks_refresh_period: Duration::from_secs(900),
                trust_store: None,
            }),
            shared_secret: Some("s".to_string()),
            failure_limit: per_user,
            failure_limit_per_address: per_address,
            ..SecurityConfig::default()
        };
        let auth = Authentication::start(config, "node").await.unwrap();
        (dir, Arc::new(auth))
    }

    async fn login(
        auth: &Authentication,
        headers: &HeaderMap,
        client: &str,
    ) -> Result<String, SecurityError> {
        let request = AuthRequest {
            headers,
            secure: true,
            client: client.parse().unwrap(),
        };
        auth.authenticate(&request)
            .await
            .map(|principal| principal.unwrap().user)
    }

    fn bearer(sub: &str, secret: &[u8]) -> HeaderMap {
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({ "sub": sub }),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        headers
    }

    fn throttled(result: &Result<String, SecurityError>) -> bool {
        matches!(result, Err(SecurityError::Throttled { .. }))
    }

    #[tokio::test]
    async fn wrong_passwords_of_one_user_do_not_lock_out_another() {
        let (_dir, auth) = throttled_chain(3, 30, vec![]).await;
        let nat = "10.1.1.1";
        for _ in 0..3 {
            let result = login(&auth, &basic("alice", "guess"), nat).await;
            assert!(
                matches!(result, Err(SecurityError::Unauthenticated { .. })),
                "{result:?}"
            );
        }
        assert!(throttled(&login(&auth, &basic("alice", "pw"), nat).await));
        assert_eq!(login(&auth, &basic("bob", "pw"), nat).await.unwrap(), "bob");
        assert_eq!(
            login(&auth, &basic("alice", "pw"), "10.1.1.2")
                .await
                .unwrap(),
            "alice"
        );
    }

    #[tokio::test]
    async fn simultaneous_correct_logins_all_succeed() {
        let (_dir, auth) = throttled_chain(2, 4, vec![]).await;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let auth = Arc::clone(&auth);
            tasks.spawn(async move { login(&auth, &basic("alice", "pw"), "10.1.1.1").await });
        }
        let mut ok = 0;
        while let Some(result) = tasks.join_next().await {
            assert_eq!(result.unwrap().unwrap(), "alice");
            ok += 1;
        }
        assert_eq!(ok, 20);
    }

    #[tokio::test]
    async fn a_spray_is_braked_but_known_users_and_tokens_get_in() {
        let (_dir, auth) = throttled_chain(3, 5, vec![]).await;
        let nat = "10.1.1.1";
        assert_eq!(login(&auth, &basic("bob", "pw"), nat).await.unwrap(), "bob");
        for i in 0..5 {
            let result = login(&auth, &basic(&format!("user{i}"), "guess"), nat).await;
            assert!(!throttled(&result), "{result:?}");
        }
        // Braked: new names get 429, even with a correct password ...
        let result = login(&auth, &basic("user9", "guess"), nat).await;
        match result {
            Err(SecurityError::Throttled { retry_after }) => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(60));
            }
            other => panic!("{other:?}"),
        }
        assert!(throttled(&login(&auth, &basic("carol", "pw"), nat).await));
        // ... undecodable credentials too ...
        let mut garbage = HeaderMap::new();
        garbage.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(throttled(&login(&auth, &garbage, nat).await));
        // ... while bob, who logged in from here before, and valid tokens still get in, and
        // other addresses are not braked.
        assert_eq!(login(&auth, &basic("bob", "pw"), nat).await.unwrap(), "bob");
        assert_eq!(
            login(&auth, &bearer("dave", HMAC_SECRET), nat)
                .await
                .unwrap(),
            "dave"
        );
        assert_eq!(
            login(&auth, &basic("carol", "pw"), "10.1.1.2")
                .await
                .unwrap(),
            "carol"
        );
    }

    #[tokio::test]
    async fn bad_tokens_count_toward_the_brake_only() {
        let (_dir, auth) = throttled_chain(2, 4, vec![]).await;
        let nat = "10.1.1.1";
        let forged = bearer("alice", b"another-secret-another-secret-xx");
        for _ in 0..4 {
            let result = login(&auth, &forged, nat).await;
            assert!(
                matches!(result, Err(SecurityError::Unauthenticated { .. })),
                "{result:?}"
            );
        }
        // Bad tokens are answered 401, never 429, and the subject they name is not locked out
        // anywhere else; the address is braked for passwords of users unknown there.
        assert!(matches!(
            login(&auth, &forged, nat).await,
            Err(SecurityError::Unauthenticated { .. })
        ));
        assert!(throttled(&login(&auth, &basic("alice", "pw"), nat).await));
        assert_eq!(
            login(&auth, &basic("alice", "pw"), "10.1.1.2")
                .await
                .unwrap(),
            "alice"
        );
        assert_eq!(
            login(&auth, &bearer("alice", HMAC_SECRET), nat)
                .await
                .unwrap(),
            "alice"
        );
    }

    #[tokio::test]
    async fn an_unavailable_checker_is_not_a_failure() {
        let (_dir, down_only) = {
            let dir = tempfile::tempdir().unwrap();
            let config = SecurityConfig {
                types: vec![AuthenticationType::Password],
                allow_insecure_over_http: false,
                password_authenticators: vec![Arc::new(Down)],
                shared_secret: Some("s".to_string()),
                failure_limit: 2,
                failure_limit_per_address: 2,
                ..SecurityConfig::default()
            };
            (dir, Authentication::start(config, "node").await.unwrap())
        };
        for _ in 0..5 {
            let result = login(&down_only, &basic("alice", "pw"), "10.1.1.1").await;
            match result {
                Err(SecurityError::Unauthenticated { message, .. }) => {
                    assert!(message.contains("unavailable"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        // With a file checker in front, a wrong password still counts while the other is down.
        let (_dir, auth) = throttled_chain(2, 20, vec![Arc::new(Down)]).await;
        for _ in 0..2 {
            assert!(!throttled(
                &login(&auth, &basic("alice", "guess"), "10.1.1.1").await
            ));
        }
        assert!(throttled(
            &login(&auth, &basic("alice", "pw"), "10.1.1.1").await
        ));
    }
}
