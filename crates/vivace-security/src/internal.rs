//! Node-to-node trust: every internal request carries `X-Trino-Internal-Bearer`, an HS256 JWT
//! signed with SHA-256 of `internal-communication.shared-secret`, naming the sending node and
//! valid for five minutes, as Trino does.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SecurityError;

/// The header carrying the internal token.
pub const INTERNAL_BEARER_HEADER: &str = "x-trino-internal-bearer";

/// How long an internal token is valid.
const TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// Signs and checks internal tokens with the cluster's shared secret.
pub struct InternalAuth {
    node_id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for InternalAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalAuth")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct InternalClaims {
    sub: String,
    exp: u64,
}

impl InternalAuth {
    /// Keys derived from the shared secret, for the node `node_id`.
    pub fn new(shared_secret: &str, node_id: impl Into<String>) -> Self {
        let key: [u8; 32] = Sha256::digest(shared_secret.as_bytes()).into();
        InternalAuth {
            node_id: node_id.into(),
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// A fresh token for one request from this node.
    pub fn token(&self) -> Result<String, SecurityError> {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(TOKEN_LIFETIME)
            .as_secs();
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &InternalClaims {
                sub: self.node_id.clone(),
                exp,
            },
            &self.encoding,
        )
        .map_err(|e| SecurityError::Internal(format!("cannot sign internal token: {e}")))
    }

    /// The sending node's id, when the token is valid.
    pub fn verify(&self, token: &str) -> Result<String, SecurityError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims = HashSet::from(["exp".to_string(), "sub".to_string()]);
        validation.validate_aud = false;
        jsonwebtoken::decode::<InternalClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims.sub)
            .map_err(|e| SecurityError::Internal(format!("invalid internal token: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_secret_verifies_other_does_not() {
        let a = InternalAuth::new("secret", "node-a");
        let b = InternalAuth::new("secret", "node-b");
        let wrong = InternalAuth::new("other", "node-c");
        let token = a.token().unwrap();
        assert_eq!(b.verify(&token).unwrap(), "node-a");
        assert!(wrong.verify(&token).is_err());
        assert!(b.verify("not-a-token").is_err());
    }
}
