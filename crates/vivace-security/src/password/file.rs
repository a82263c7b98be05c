//! `password-authenticator.name=file`: users and hashes in `file.password-file`, re-read when
//! the file changes, with a cache of recent checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use tracing::{info, warn};
use vivace_common::PropertyMap;

use super::hash::PasswordHash;
use super::{PasswordAuthenticator, PasswordError, PasswordPrincipal};
use crate::SecurityError;
use crate::cache::CredentialCache;
use crate::file_version::{FileVersion, file_version};

/// Checks passwords against a Trino-format password file.
#[derive(Debug)]
pub struct FileAuthenticator {
    path: PathBuf,
    refresh_period: Duration,
    state: Mutex<FileState>,
    cache: CredentialCache<bool>,
}

struct FileState {
    users: Arc<HashMap<String, PasswordHash>>,
    version: FileVersion,
    checked_at: Instant,
}

impl std::fmt::Debug for FileState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileState")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

/// Checked when the user does not exist, so that unknown and known users take as long.
fn dummy_hash() -> Option<&'static PasswordHash> {
    static DUMMY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            super::hash::bcrypt_hash("vivace-dummy-password", 10)
                .ok()
                .and_then(|h| PasswordHash::parse(&h).ok())
        })
        .as_ref()
}

impl FileAuthenticator {
    /// Reads `file.password-file`, `file.refresh-period` (5s) and
    /// `file.auth-token-cache.max-size` (1000), and loads the file.
    pub fn from_properties(props: &mut PropertyMap) -> Result<Self, SecurityError> {
        let path = PathBuf::from(props.require_string("file.password-file")?);
        let refresh_period = props
            .take_duration("file.refresh-period")?
            .unwrap_or(Duration::from_secs(5));
        let cache_size = props
            .take_parsed::<usize>("file.auth-token-cache.max-size")?
            .unwrap_or(1000);
        Self::new(path, refresh_period, cache_size)
    }

    /// Loads the password file now; a bad file is an error naming its line.
    pub fn new(
        path: PathBuf,
        refresh_period: Duration,
        cache_size: usize,
    ) -> Result<Self, SecurityError> {
        let (users, version) = load(&path).map_err(SecurityError::Config)?;
        Ok(FileAuthenticator {
            state: Mutex::new(FileState {
                users: Arc::new(users),
                version,
                checked_at: Instant::now(),
            }),
            cache: CredentialCache::new(refresh_period.max(Duration::from_secs(1)), cache_size),
            path,
            refresh_period,
        })
    }

    /// The current users, re-reading the file when the refresh period has passed and it
    /// changed. A file that became invalid is reported and the previous users are kept.
    fn users(&self) -> Arc<HashMap<String, PasswordHash>> {
        let mut state = self.state.lock();
        if state.checked_at.elapsed() >= self.refresh_period {
            state.checked_at = Instant::now();
            if file_version(&self.path) != state.version {
                match load(&self.path) {
                    Ok((users, version)) => {
                        info!(file = %self.path.display(), users = users.len(), "password file reloaded");
                        state.users = Arc::new(users);
                        state.version = version;
                        self.cache.clear();
                    }
                    Err(e) => warn!("keeping the previous password file: {e}"),
                }
            }
        }
        Arc::clone(&state.users)
    }
}

fn load(path: &Path) -> Result<(HashMap<String, PasswordHash>, FileVersion), String> {
    // The version is read first: a write racing with the read is then seen next time.
    let version = file_version(path);
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read password file {}: {e}", path.display()))?;
    let mut users = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let error = |message: &str| {
            format!(
                "{}: Error in password file line {}: {message}",
                path.display(),
                index + 1
            )
        };
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| error("Expected two parts for user and password"))?;
        let hash = PasswordHash::parse(hash).map_err(|e| error(&e))?;
        if users.insert(user.to_string(), hash).is_some() {
            return Err(error("Duplicate user"));
        }
    }
    Ok((users, version))
}

#[async_trait]
impl PasswordAuthenticator for FileAuthenticator {
    async fn authenticate(
        &self,
        user: &str,
        password: &str,
    ) -> Result<PasswordPrincipal, PasswordError> {
        let users = self.users();
        let key = CredentialCache::<bool>::key(user, password);
        let valid = match self.cache.get(&key) {
            Some(valid) => valid,
            None => {
                let hash = users.get(user).cloned();
                let password = password.to_string();
                let valid = tokio::task::spawn_blocking(move || match hash {
                    Some(hash) => hash.verify(&password),
                    None => {
                        if let Some(dummy) = dummy_hash() {
                            dummy.verify(&password);
                        }
                        false
                    }
                })
                .await
                .unwrap_or(false);
                // Only successes are kept: failed guesses must not push valid logins out.
                if valid {
                    self.cache.insert(key, true);
                }
                valid
            }
        };
        if valid {
            Ok(PasswordPrincipal {
                name: user.to_string(),
                groups: vec![],
            })
        } else {
            Err(PasswordError::refused("Access Denied: Invalid credentials"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::hash::bcrypt_hash;

    #[tokio::test]
    async fn checks_reloads_and_rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password.db");
        std::fs::write(
            &path,
            format!("alice:{}\n\n", bcrypt_hash("pw1", 8).unwrap()),
        )
        .unwrap();
        let auth = FileAuthenticator::new(path.clone(), Duration::ZERO, 10).unwrap();
        assert_eq!(
            auth.authenticate("alice", "pw1").await.unwrap().name,
            "alice"
        );
        assert!(auth.authenticate("alice", "wrong").await.is_err());
        assert!(auth.authenticate("nobody", "pw1").await.is_err());

        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, format!("alice:{}\n", bcrypt_hash("pw2", 8).unwrap())).unwrap();
        assert!(auth.authenticate("alice", "pw1").await.is_err());
        assert!(auth.authenticate("alice", "pw2").await.is_ok());

        std::fs::write(&path, "a:x\n").unwrap();
        let err = FileAuthenticator::new(path.clone(), Duration::ZERO, 10).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 1: Password hashing algorithm"),
            "{err}"
        );
        let hash = bcrypt_hash("p", 8).unwrap();
        std::fs::write(&path, format!("a:{hash}\na:{hash}\n")).unwrap();
        let err = FileAuthenticator::new(path, Duration::ZERO, 10).unwrap_err();
        assert!(err.to_string().contains("line 2: Duplicate user"), "{err}");
    }
}
