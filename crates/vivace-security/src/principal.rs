//! The result of authenticating a request.

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: Basic` checked by a password authenticator.
    Password,
    /// `Authorization: Bearer` JWT.
    Jwt,
    /// Another node of the cluster, with the shared secret.
    Internal,
}

impl AuthMethod {
    /// The Trino name of the method (`PASSWORD`, `JWT`), as shown in query listings.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "PASSWORD",
            AuthMethod::Jwt => "JWT",
            AuthMethod::Internal => "INTERNAL",
        }
    }
}

/// An authenticated user: the name after user mapping, their groups and the method used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user after user mapping: the session user.
    pub user: String,
    /// The name the credentials carried before mapping (the Basic user or the JWT claim).
    pub authenticated_name: String,
    /// Groups reported by the authenticator (webhook reply, JWT claim), possibly empty.
    pub groups: Vec<String>,
    /// How the user was authenticated.
    pub method: AuthMethod,
}
