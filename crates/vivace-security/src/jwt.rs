//! JWT bearer tokens (`http-server.authentication.jwt.*`): signature checked with a PEM public
//! key, an HMAC secret, a key file chosen by the token's `kid`, or a JWKS URL; then issuer,
//! audience, `exp` and `nbf` (with a clock-skew allowance); then the principal and groups
//! claims.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use tracing::{info, warn};

use crate::SecurityError;

/// The shortest time between two JWKS fetches caused by unknown key ids.
const JWKS_ON_DEMAND_INTERVAL: Duration = Duration::from_secs(5);

/// JWT settings from `config.properties`.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// `key-file`: a file, a path pattern with `${KID}`, or an `https://` JWKS URL.
    pub key_file: String,
    /// `required-issuer`.
    pub required_issuer: Option<String>,
    /// `required-audience`.
    pub required_audience: Option<String>,
    /// `principal-field` (default `sub`).
    pub principal_field: String,
    /// `groups-field`: a claim holding the user's groups (a list or a comma-separated string).
    pub groups_field: Option<String>,
    /// `clock-skew`: allowance when checking `exp` and `nbf` (default 0).
    pub clock_skew: Duration,
    /// `require-expiration`: refuse tokens without `exp` (default false, as in Trino).
    pub require_expiration: bool,
    /// `jwks-refresh-period`: how often a JWKS URL is re-read (default 15m).
    pub jwks_refresh_period: Duration,
    /// `http-client.trust-store-path`: PEM CAs to trust for the JWKS URL.
    pub trust_store: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    Ec,
    Ed,
    Hmac,
}

impl KeyKind {
    fn accepts(self, algorithm: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            KeyKind::Hmac => matches!(algorithm, HS256 | HS384 | HS512),
            KeyKind::Rsa => matches!(algorithm, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            KeyKind::Ec => matches!(algorithm, ES256 | ES384),
            KeyKind::Ed => matches!(algorithm, EdDSA),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            KeyKind::Rsa => "an RSA key",
            KeyKind::Ec => "an EC key",
            KeyKind::Ed => "an EdDSA key",
            KeyKind::Hmac => "an HMAC key",
        }
    }
}

struct VerificationKey {
    key: DecodingKey,
    kind: KeyKind,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerificationKey({:?})", self.kind)
    }
}

/// Reads a key file as Trino does: a PEM public key, otherwise a base64 HMAC secret.
fn load_key_file(path: &Path) -> Result<VerificationKey, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if data.windows(11).any(|w| w == b"-----BEGIN ") {
        if let Ok(key) = DecodingKey::from_rsa_pem(&data) {
            return Ok(VerificationKey {
                key,
                kind: KeyKind::Rsa,
            });
        }
        if let Ok(key) = DecodingKey::from_ec_pem(&data) {
            return Ok(VerificationKey {
                key,
                kind: KeyKind::Ec,
            });
        }
        if let Ok(key) = DecodingKey::from_ed_pem(&data) {
            return Ok(VerificationKey {
                key,
                kind: KeyKind::Ed,
            });
        }
        return Err(format!(
            "{}: not an RSA, EC or EdDSA public key in PEM form",
            path.display()
        ));
    }
    let text: String = String::from_utf8_lossy(&data)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let secret = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| {
            format!(
                "{}: not a PEM public key nor a base64 HMAC secret: {e}",
                path.display()
            )
        })?;
    if secret.len() < 32 {
        return Err(format!(
            "{}: the HMAC secret is shorter than 256 bits",
            path.display()
        ));
    }
    Ok(VerificationKey {
        key: DecodingKey::from_secret(&secret),
        kind: KeyKind::Hmac,
    })
}

/// A key id made safe for a file name: characters outside `[A-Za-z0-9_-]` become `_`; no key
/// id is `default-key`.
fn sanitize_kid(kid: Option<&str>) -> String {
    match kid {
        None => "default-key".to_string(),
        Some(kid) => kid
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    }
}

#[derive(Debug)]
enum KeySource {
    Single(Arc<VerificationKey>),
    KidPattern {
        pattern: String,
        loaded: Mutex<HashMap<String, Arc<VerificationKey>>>,
    },
    Jwks(Arc<Jwks>),
}

/// Keys of a JWKS document by `kid`.
#[derive(Debug)]
struct Jwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, Arc<VerificationKey>>>,
    last_on_demand: Mutex<Option<Instant>>,
}

impl Jwks {
    async fn fetch(&self) -> Result<(), String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch JWKS from {}: {e}", self.url))?;
        if !response.status().is_success() {
            return Err(format!("JWKS {} answered {}", self.url, response.status()));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| format!("JWKS {} is not a valid key set: {e}", self.url))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            let kind = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => KeyKind::Rsa,
                AlgorithmParameters::EllipticCurve(_) => KeyKind::Ec,
                AlgorithmParameters::OctetKeyPair(_) => KeyKind::Ed,
                // A published symmetric key would let anyone sign tokens.
                AlgorithmParameters::OctetKey(_) => {
                    warn!(url = %self.url, kid = %kid.escape_debug(), "skipping symmetric (oct) key in JWKS");
                    continue;
                }
            };
            if matches!(&jwk.common.public_key_use, Some(usage) if !matches!(usage, PublicKeyUse::Signature))
            {
                continue;
            }
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid, Arc::new(VerificationKey { key, kind }));
                }
                Err(e) => warn!(url = %self.url, kid = %kid, "skipping unusable JWKS key: {e}"),
            }
        }
        info!(url = %self.url, keys = keys.len(), "JWKS loaded");
        *self.keys.write() = keys;
        Ok(())
    }

    fn lookup(&self, kid: Option<&str>) -> Option<Arc<VerificationKey>> {
        let keys = self.keys.read();
        match kid {
            Some(kid) => keys.get(kid).cloned(),
            None if keys.len() == 1 => keys.values().next().cloned(),
            None => None,
        }
    }

    /// The key for `kid`, fetching the set again (at most every few seconds) when it is unknown.
    async fn key(&self, kid: Option<&str>) -> Result<Arc<VerificationKey>, String> {
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        let may_fetch = {
            let mut last = self.last_on_demand.lock();
            let due = last.is_none_or(|at| at.elapsed() >= JWKS_ON_DEMAND_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if may_fetch && let Err(e) = self.fetch().await {
            warn!("{e}");
        }
        self.lookup(kid).ok_or_else(|| match kid {
            Some(kid) => format!("Unknown signing key ID {}", printable(kid)),
            None => "JWT has no key ID (kid) and the key set has more than one key".to_string(),
        })
    }
}

/// Validates bearer tokens.
#[derive(Debug)]
pub struct JwtAuthenticator {
    settings: JwtSettings,
    keys: KeySource,
}

/// A token's subject and groups, before user mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    /// The `principal-field` claim.
    pub name: String,
    /// The `groups-field` claim.
    pub groups: Vec<String>,
}

impl JwtAuthenticator {
    /// Loads the configured keys; a JWKS URL is fetched now and must answer.
    pub async fn start(settings: JwtSettings) -> Result<Self, SecurityError> {
        let key_file = settings.key_file.clone();
        let keys = if key_file.starts_with("https://") || key_file.starts_with("http://") {
            if key_file.starts_with("http://") {
                warn!("JWKS URL {key_file} is not HTTPS; keys could be replaced in transit");
            }
            let client = crate::tls::http_client(
                settings.trust_store.as_deref(),
                Duration::from_secs(10),
                false,
            )?;
            let jwks = Arc::new(Jwks {
                url: key_file.clone(),
                client,
                keys: RwLock::new(HashMap::new()),
                last_on_demand: Mutex::new(None),
            });
            jwks.fetch().await.map_err(|e| {
                SecurityError::config(format!("http-server.authentication.jwt.key-file: {e}"))
            })?;
            KeySource::Jwks(jwks)
        } else if key_file.contains("${KID}") {
            KeySource::KidPattern {
                pattern: key_file.clone(),
                loaded: Mutex::new(HashMap::new()),
            }
        } else {
            let key = load_key_file(Path::new(&key_file)).map_err(|e| {
                SecurityError::config(format!("http-server.authentication.jwt.key-file: {e}"))
            })?;
            KeySource::Single(Arc::new(key))
        };
        Ok(JwtAuthenticator { settings, keys })
    }

    /// Re-reads a JWKS URL every refresh period, until the task is dropped.
    pub fn spawn_refresh(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let KeySource::Jwks(jwks) = &self.keys else {
            return None;
        };
        let jwks = Arc::clone(jwks);
        let period = self
            .settings
            .jwks_refresh_period
            .max(Duration::from_secs(1));
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = jwks.fetch().await {
                    warn!("{e}; keeping the previous keys");
                }
            }
        }))
    }

    async fn key(&self, kid: Option<&str>) -> Result<Arc<VerificationKey>, String> {
        match &self.keys {
            KeySource::Single(key) => Ok(Arc::clone(key)),
            KeySource::Jwks(jwks) => jwks.key(kid).await,
            KeySource::KidPattern { pattern, loaded } => {
                let name = sanitize_kid(kid);
                if let Some(key) = loaded.lock().get(&name) {
                    return Ok(Arc::clone(key));
                }
                let path = PathBuf::from(pattern.replace("${KID}", &name));
                let key = load_key_file(&path).map_err(|e| {
                    warn!("JWT key for kid {name}: {e}");
                    format!("Unknown signing key ID {}", printable(&name))
                })?;
                let key = Arc::new(key);
                loaded.lock().insert(name, Arc::clone(&key));
                Ok(key)
            }
        }
    }

    /// Checks a token; `Err` is the message for the client.
    pub async fn authenticate(&self, token: &str) -> Result<TokenPrincipal, String> {
        let header = token_header(token)?;
        let algorithm = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or("Malformed JWT: no algorithm (alg) in the header")?;
        if algorithm.eq_ignore_ascii_case("none") {
            return Err("Unsigned JWT (alg none) is not accepted".to_string());
        }
        let algorithm: Algorithm = algorithm
            .parse()
            .map_err(|_| format!("Unsupported JWT algorithm {}", printable(algorithm)))?;
        let kid = header.get("kid").and_then(Value::as_str);
        let key = self.key(kid).await?;
        if !key.kind.accepts(algorithm) {
            return Err(format!(
                "JWT is signed with {algorithm:?}, but the signing key is {}",
                key.kind.describe()
            ));
        }

        let mut validation = Validation::new(algorithm);
        validation.leeway = self.settings.clock_skew.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // jsonwebtoken compares `iss` and `aud` only when present: a configured requirement
        // must also make the claim mandatory.
        let mut required = HashSet::new();
        if self.settings.require_expiration {
            required.insert("exp".to_string());
        }
        if self.settings.required_issuer.is_some() {
            required.insert("iss".to_string());
        }
        if self.settings.required_audience.is_some() {
            required.insert("aud".to_string());
        }
        validation.required_spec_claims = required;
        match &self.settings.required_audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.settings.required_issuer {
            validation.set_issuer(&[issuer]);
        }
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| describe_error(e.kind()))?
            .claims;
        // A time claim that is not a number would be skipped by the checks above.
        for claim in ["exp", "nbf"] {
            if let Some(value) = claims.get(claim)
                && !value.as_f64().is_some_and(|v| v >= 0.0)
            {
                return Err(format!("Malformed JWT: {claim} is not a NumericDate"));
            }
        }

        let name = claims
            .get(&self.settings.principal_field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                format!(
                    "Invalid credentials: the JWT has no {} claim",
                    self.settings.principal_field
                )
            })?
            .to_string();
        let groups = match self
            .settings
            .groups_field
            .as_ref()
            .and_then(|f| claims.get(f))
        {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(list)) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            _ => vec![],
        };
        Ok(TokenPrincipal { name, groups })
    }
}

/// Attacker-supplied text made safe for messages and logs: escaped and truncated.
fn printable(text: &str) -> String {
    let escaped: String = text.escape_debug().collect();
    if escaped.chars().count() > 64 {
        format!("{}...", escaped.chars().take(64).collect::<String>())
    } else {
        escaped
    }
}

/// The decoded JSON header, read before any key is chosen.
fn token_header(token: &str) -> Result<Map<String, Value>, String> {
    let malformed = || "Malformed JWT".to_string();
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("Malformed JWT: expected three dot-separated parts (encrypted tokens are not supported)".to_string());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

fn describe_error(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "JWT expired".to_string(),
        ErrorKind::ImmatureSignature => "JWT is not valid yet (nbf is in the future)".to_string(),
        ErrorKind::InvalidAudience => {
            "JWT audience does not match the required audience".to_string()
        }
        ErrorKind::InvalidIssuer => "JWT issuer does not match the required issuer".to_string(),
        ErrorKind::InvalidSignature => "JWT signature does not match".to_string(),
        ErrorKind::MissingRequiredClaim(claim) => format!("JWT has no {claim} claim"),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "JWT algorithm does not match the signing key".to_string()
        }
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => "Malformed JWT".to_string(),
        // Key and crypto-library failures: the detail is for the server log only.
        other => {
            tracing::debug!("JWT refused: {other:?}");
            "Invalid JWT".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn settings(key_file: String) -> JwtSettings {
        JwtSettings {
            key_file,
            required_issuer: Some("issuer".to_string()),
            required_audience: Some("vivace".to_string()),
            principal_field: "sub".to_string(),
            groups_field: Some("groups".to_string()),
            clock_skew: Duration::ZERO,
            require_expiration: false,
            jwks_refresh_period: Duration::from_secs(900),
            trust_store: None,
        }
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn token(claims: Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn hmac_key_file_checks_claims() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(
            &path,
            base64::engine::general_purpose::STANDARD.encode(SECRET),
        )
        .unwrap();
        let auth = JwtAuthenticator::start(settings(path.display().to_string()))
            .await
            .unwrap();
        let good = json!({"sub": "alice", "iss": "issuer", "aud": "vivace", "exp": now() + 60, "groups": ["a", "b"]});
        let principal = auth.authenticate(&token(good.clone())).await.unwrap();
        assert_eq!(principal.name, "alice");
        assert_eq!(principal.groups, vec!["a", "b"]);

        let mut expired = good.clone();
        expired["exp"] = json!(now() - 10);
        assert_eq!(
            auth.authenticate(&token(expired)).await.unwrap_err(),
            "JWT expired"
        );
        let mut early = good.clone();
        early["nbf"] = json!(now() + 100);
        assert!(
            auth.authenticate(&token(early))
                .await
                .unwrap_err()
                .contains("not valid yet")
        );
        let mut audience = good.clone();
        audience["aud"] = json!("other");
        assert!(
            auth.authenticate(&token(audience))
                .await
                .unwrap_err()
                .contains("audience")
        );
        let mut issuer = good.clone();
        issuer["iss"] = json!("other");
        assert!(
            auth.authenticate(&token(issuer))
                .await
                .unwrap_err()
                .contains("issuer")
        );

        let signed = token(good);
        let mut parts: Vec<&str> = signed.split('.').collect();
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"sub": "root", "iss": "issuer", "aud": "vivace"}).to_string());
        parts[1] = &forged;
        assert!(
            auth.authenticate(&parts.join("."))
                .await
                .unwrap_err()
                .contains("signature")
        );

        let none_header =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let unsigned = format!("{none_header}.{forged}.");
        assert!(
            auth.authenticate(&unsigned)
                .await
                .unwrap_err()
                .contains("alg none")
        );
        assert!(
            auth.authenticate("garbage")
                .await
                .unwrap_err()
                .contains("Malformed")
        );
    }

    #[test]
    fn low_level_failures_are_not_shown_to_clients() {
        let kind = ErrorKind::InvalidRsaKey("modulus at /etc/keys/rsa.pem is too short".into());
        assert_eq!(describe_error(&kind), "Invalid JWT");
        assert_eq!(describe_error(&ErrorKind::InvalidKeyFormat), "Invalid JWT");
        assert_eq!(describe_error(&ErrorKind::ExpiredSignature), "JWT expired");
    }

    #[test]
    fn kid_sanitising() {
        assert_eq!(sanitize_kid(Some("../etc/passwd")), "___etc_passwd");
        assert_eq!(sanitize_kid(Some("key-1_A")), "key-1_A");
        assert_eq!(sanitize_kid(None), "default-key");
    }
}
