//! Request headers to a [`Session`], and [`SessionUpdate`]s to response headers, in either
//! header family.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use vivace_engine::{Identity, Session, SessionUpdate};
use vivace_protocol::ProtocolHeaders;
use vivace_protocol::request_headers::{self, RequestedSession, form_encode as encode};
use vivace_security::{AuthMethod, Principal, decode_basic};

use crate::error::RequestError;

/// Picks the header family: Presto when only `X-Presto-*` headers are present.
pub(crate) fn detect_family(headers: &HeaderMap) -> Result<ProtocolHeaders, RequestError> {
    Ok(request_headers::detect_family(headers)?)
}

/// Who a request runs as: the authenticated principal (after user mapping), or, with
/// authentication off, the user header or a password-less Basic user. A user header naming
/// someone else is impersonation, refused until access control can allow it.
pub(crate) fn request_identity(
    headers: &HeaderMap,
    family: ProtocolHeaders,
    principal: Option<&Principal>,
) -> Result<Identity, RequestError> {
    let header_user = request_headers::header_text(headers, family.user())?;
    identity_for(header_user, headers, principal)
}

/// [`request_identity`] for a user header already read.
fn identity_for(
    header_user: Option<&str>,
    headers: &HeaderMap,
    principal: Option<&Principal>,
) -> Result<Identity, RequestError> {
    let Some(principal) = principal.filter(|p| p.method != AuthMethod::Internal) else {
        let user = match header_user {
            Some(user) => user.to_string(),
            None => basic_user(headers)?.ok_or_else(|| {
                RequestError::Unauthorized(
                    "Basic authentication or X-Trino-User must be sent".to_string(),
                )
            })?,
        };
        return Ok(Identity {
            user,
            groups: vec![],
            authenticated_by: None,
        });
    };
    if let Some(requested) = header_user
        && requested != principal.user
        && requested != principal.authenticated_name
    {
        return Err(RequestError::Forbidden(format!(
            "User {} cannot impersonate user {requested}",
            principal.user
        )));
    }
    Ok(Identity {
        user: principal.user.clone(),
        groups: principal.groups.clone(),
        authenticated_by: Some(principal.method.as_str().to_string()),
    })
}

/// The session described by a statement request's headers.
pub(crate) fn session_from_headers(
    headers: &HeaderMap,
    family: ProtocolHeaders,
    principal: Option<&Principal>,
) -> Result<Session, RequestError> {
    // Who the request is comes first (401/403 before a malformed header's 400); the user
    // header is read once, with the rest of the session, unless the session headers are bad.
    let requested = RequestedSession::from_headers(headers, family);
    let header_user = match &requested {
        Ok(requested) => requested.user.clone(),
        Err(_) => request_headers::header_text(headers, family.user())?.map(str::to_string),
    };
    let identity = identity_for(header_user.as_deref(), headers, principal)?;
    let requested = requested?;
    Ok(Session {
        identity,
        source: requested.source,
        catalog: requested.catalog,
        schema: requested.schema,
        path: requested.path,
        time_zone: requested.time_zone,
        language: requested.language,
        client_info: requested.client_info,
        client_tags: requested.client_tags,
        client_capabilities: requested.client_capabilities.into_iter().collect(),
        transaction_id: requested.transaction_id,
        trace_token: requested.trace_token,
        properties: requested.properties.into_iter().collect(),
        prepared_statements: requested.prepared_statements.into_iter().collect(),
    })
}

/// The user of a `Basic` header sent without a password (trusted when no authenticator is
/// configured, as Trino does).
fn basic_user(headers: &HeaderMap) -> Result<Option<String>, RequestError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| RequestError::BadRequest("Invalid Authorization header".to_string()))?;
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Ok(None);
    };
    let (user, password) = decode_basic(encoded)
        .map_err(|_| RequestError::BadRequest("Invalid Basic authorization header".into()))?;
    if password.is_some_and(|p| !p.is_empty()) {
        return Err(RequestError::Unauthorized(
            "Password not allowed for insecure authentication".to_string(),
        ));
    }
    Ok(Some(user).filter(|u| !u.is_empty()))
}

/// Response headers for a session update, one line per entry.
pub(crate) fn update_headers(
    update: &SessionUpdate,
    family: ProtocolHeaders,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    if let Some(catalog) = &update.set_catalog {
        out.push((family.set_catalog(), catalog.clone()));
    }
    if let Some(schema) = &update.set_schema {
        out.push((family.set_schema(), schema.clone()));
    }
    if let Some(path) = &update.set_path {
        out.push((family.set_path(), path.clone()));
    }
    for (name, value) in &update.set_properties {
        out.push((family.set_session(), format!("{name}={}", encode(value))));
    }
    for name in &update.reset_properties {
        out.push((family.clear_session(), name.clone()));
    }
    for (name, sql) in &update.added_prepared {
        out.push((
            family.added_prepare(),
            format!("{}={}", encode(name), encode(sql)),
        ));
    }
    for name in &update.deallocated_prepared {
        out.push((family.deallocated_prepare(), encode(name)));
    }
    if let Some(id) = &update.started_transaction_id {
        out.push((family.started_transaction_id(), id.clone()));
    }
    if update.clear_transaction_id {
        out.push((family.clear_transaction_id(), "true".to_string()));
    }
    out.into_iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn sessions_parse_from_both_families() {
        let map = headers(&[
            ("x-presto-user", "alice"),
            ("x-presto-catalog", "tpch"),
            ("x-presto-session", "a=1, b=x%2Cy"),
            ("x-presto-session", "c=hello+world"),
        ]);
        let family = detect_family(&map).unwrap();
        assert_eq!(family, ProtocolHeaders::Presto);
        let session = session_from_headers(&map, family, None).unwrap();
        assert_eq!(session.identity.user, "alice");
        assert_eq!(session.properties.get("b").map(String::as_str), Some("x,y"));
        assert_eq!(
            session.properties.get("c").map(String::as_str),
            Some("hello world")
        );
    }

    #[test]
    fn bad_headers_are_rejected() {
        let map = headers(&[("x-trino-user", "a"), ("x-presto-user", "b")]);
        assert!(detect_family(&map).is_err());
        let map = headers(&[("x-trino-user", "a"), ("x-trino-session", "novalue")]);
        assert!(session_from_headers(&map, ProtocolHeaders::Trino, None).is_err());
        let map = headers(&[("x-trino-source", "x")]);
        assert!(matches!(
            session_from_headers(&map, ProtocolHeaders::Trino, None),
            Err(RequestError::Unauthorized(_))
        ));
        let empty_session = headers(&[("x-trino-user", "a"), ("x-trino-session", "")]);
        assert!(session_from_headers(&empty_session, ProtocolHeaders::Trino, None).is_ok());
    }

    #[test]
    fn authenticated_principal_decides_the_user() {
        let principal = Principal {
            user: "alice".to_string(),
            authenticated_name: "alice@corp".to_string(),
            groups: vec!["analysts".to_string()],
            method: AuthMethod::Password,
        };
        for header_user in [None, Some("alice"), Some("alice@corp")] {
            let pairs: Vec<(&str, &str)> = header_user
                .map(|u| ("x-trino-user", u))
                .into_iter()
                .collect();
            let identity =
                request_identity(&headers(&pairs), ProtocolHeaders::Trino, Some(&principal))
                    .unwrap();
            assert_eq!(identity.user, "alice");
            assert_eq!(identity.groups, vec!["analysts"]);
            assert_eq!(identity.authenticated_by.as_deref(), Some("PASSWORD"));
        }
        let impersonating = headers(&[("x-trino-user", "bob")]);
        assert!(matches!(
            request_identity(&impersonating, ProtocolHeaders::Trino, Some(&principal)),
            Err(RequestError::Forbidden(_))
        ));
    }

    #[test]
    fn updates_encode_values() {
        let update = SessionUpdate {
            set_properties: vec![("p".into(), "a b,c".into())],
            ..SessionUpdate::default()
        };
        let lines = update_headers(&update, ProtocolHeaders::Trino);
        assert_eq!(lines[0].0.as_str(), "x-trino-set-session");
        assert_eq!(lines[0].1.to_str().unwrap(), "p=a+b%2Cc");
    }
}
