//! Password hashes as Trino's password file holds them: bcrypt (cost at least 8) and
//! PBKDF2-HMAC-SHA1 as `iterations:hexsalt:hexhash` (at least 1000 iterations).

use sha1::Sha1;

/// The lowest bcrypt cost accepted, as in Trino.
pub const MIN_BCRYPT_COST: u32 = 8;
/// The lowest PBKDF2 iteration count accepted, as in Trino.
pub const MIN_PBKDF2_ITERATIONS: u32 = 1000;

/// A stored password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordHash {
    /// A bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
    Bcrypt(String),
    /// PBKDF2 with HMAC-SHA1; the derived key is as long as `hash`.
    Pbkdf2 {
        /// Iteration count.
        iterations: u32,
        /// Salt bytes.
        salt: Vec<u8>,
        /// Expected derived key.
        hash: Vec<u8>,
    },
}

impl PasswordHash {
    /// Parses one hash, refusing weak parameters.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("$2") {
            let cost: u32 = text
                .split('$')
                .nth(2)
                .and_then(|c| c.parse().ok())
                .ok_or("Invalid BCrypt password")?;
            if cost < MIN_BCRYPT_COST {
                return Err(format!(
                    "Minimum cost of BCrypt password must be {MIN_BCRYPT_COST}"
                ));
            }
            return Ok(PasswordHash::Bcrypt(text.to_string()));
        }
        let parts: Vec<&str> = text.split(':').collect();
        if let [iterations, salt, hash] = parts.as_slice()
            && let (Ok(iterations), Ok(salt), Ok(hash)) = (
                iterations.parse::<u32>(),
                hex::decode(salt),
                hex::decode(hash),
            )
            && !hash.is_empty()
        {
            if iterations < MIN_PBKDF2_ITERATIONS {
                return Err(format!(
                    "Minimum number of PBKDF2 iterations must be {MIN_PBKDF2_ITERATIONS}"
                ));
            }
            return Ok(PasswordHash::Pbkdf2 {
                iterations,
                salt,
                hash,
            });
        }
        Err("Password hashing algorithm cannot be determined".to_string())
    }

    /// Whether `password` matches. Slow by design; call it off the async runtime.
    pub fn verify(&self, password: &str) -> bool {
        match self {
            PasswordHash::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            PasswordHash::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => {
                let mut derived = vec![0u8; hash.len()];
                pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, *iterations, &mut derived);
                constant_time_eq(&derived, hash)
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new bcrypt hash in the `$2y$` form `htpasswd -B` writes.
pub fn bcrypt_hash(password: &str, cost: u32) -> Result<String, String> {
    if !(MIN_BCRYPT_COST..=31).contains(&cost) {
        return Err(format!(
            "bcrypt cost must be between {MIN_BCRYPT_COST} and 31"
        ));
    }
    bcrypt::hash_with_result(password, cost)
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoY))
        .map_err(|e| format!("cannot hash password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_round_trip_and_minimum_cost() {
        let hash = bcrypt_hash("secret", 8).unwrap();
        assert!(hash.starts_with("$2y$08$"));
        let parsed = PasswordHash::parse(&hash).unwrap();
        assert!(parsed.verify("secret"));
        assert!(!parsed.verify("Secret"));
        let weak = bcrypt::hash_with_result("x", 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoY);
        assert_eq!(
            PasswordHash::parse(&weak).unwrap_err(),
            "Minimum cost of BCrypt password must be 8"
        );
    }

    #[test]
    fn pbkdf2_matches_rfc_6070() {
        // RFC 6070: P = "password", S = "salt", c = 4096, dkLen = 20.
        let line = format!(
            "4096:{}:4b007901b765489abead49d926f721d065a429c1",
            hex::encode("salt")
        );
        let parsed = PasswordHash::parse(&line).unwrap();
        assert!(parsed.verify("password"));
        assert!(!parsed.verify("passwort"));
        assert!(PasswordHash::parse(&format!("999:{}:00", hex::encode("salt"))).is_err());
        assert_eq!(
            PasswordHash::parse("plaintext").unwrap_err(),
            "Password hashing algorithm cannot be determined"
        );
    }
}
