//! Who may talk to a Vivace node, and over what.
//!
//! - [`tls`]: server certificates from PEM or PKCS#12 keystores, reloaded when the files
//!   change; [`certgen`] makes a development CA and server certificate.
//! - [`Authentication`]: the ordered chain of client authenticators (`PASSWORD`, `JWT`) from
//!   `http-server.authentication.type`, with user mapping and throttling of repeated failures.
//! - [`password`]: password authenticators (`file`, `ldap`, `http` webhook) and hashing.
//! - [`jwt`]: bearer-token validation against PEM keys, HMAC secrets, `${KID}` key files or
//!   a JWKS URL.
//! - [`InternalAuth`]: the short-lived tokens nodes sign for each other with the shared secret.
//!
//! Nothing here knows about HTTP servers or the engine: callers hand in request headers and
//! get back a [`Principal`] or a [`SecurityError`]. It must not depend on any crate of ours
//! but `vivace-common`.

mod authentication;
mod cache;
pub mod certgen;
mod config;
mod error;
mod file_version;
mod internal;
pub mod jwt;
pub mod password;
mod principal;
mod throttle;
pub mod tls;
mod user_mapping;

pub use authentication::{AuthRequest, Authentication, decode_basic};
pub use config::{AuthenticationType, SecurityConfig};
pub use error::SecurityError;
pub use internal::{INTERNAL_BEARER_HEADER, InternalAuth};
pub use principal::{AuthMethod, Principal};
pub use user_mapping::UserMapping;
