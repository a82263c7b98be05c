//! Request headers to a [`Session`], and [`SessionUpdate`]s to response headers, in either
//! header family.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use vivace_engine::{Identity, Session, SessionUpdate};
use vivace_protocol::ProtocolHeaders;
use vivace_security::{AuthMethod, Principal, decode_basic};

use crate::error::RequestError;

/// Picks the header family: Presto when only `X-Presto-*` headers are present.
pub(crate) fn detect_family(headers: &HeaderMap) -> Result<ProtocolHeaders, RequestError> {
    let mut trino = false;
    let mut presto = false;
    for name in headers.keys() {
        let name = name.as_str();
        trino |= name.starts_with("x-trino-");
        presto |= name.starts_with("x-presto-");
    }
    match (trino, presto) {
        (true, true) => Err(RequestError::BadRequest(
            "Both Trino and Presto headers detected".to_string(),
        )),
        (false, true) => Ok(ProtocolHeaders::Presto),
        _ => Ok(ProtocolHeaders::Trino),
    }
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, RequestError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.trim()).filter(|v| !v.is_empty()))
            .map_err(|_| RequestError::BadRequest(format!("Invalid {name} header: not ASCII"))),
    }
}

/// Every comma-separated item of every line of a repeated header.
fn items(headers: &HeaderMap, name: &str) -> Result<Vec<String>, RequestError> {
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        let line = value
            .to_str()
            .map_err(|_| RequestError::BadRequest(format!("Invalid {name} header: not ASCII")))?;
        out.extend(
            line.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    Ok(out)
}

/// `key=urlencoded(value)` items of a header.
fn pairs(headers: &HeaderMap, name: &str) -> Result<Vec<(String, String)>, RequestError> {
    items(headers, name)?
        .into_iter()
        .map(|item| {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                RequestError::BadRequest(format!(
                    "Invalid {name} header: '{item}' is not key=value"
                ))
            })?;
            let key = decode(key.trim());
            if key.is_empty() {
                return Err(RequestError::BadRequest(format!(
                    "Invalid {name} header: empty name in '{item}'"
                )));
            }
            Ok((key, decode(value.trim())))
        })
        .collect()
}

/// Form decoding: `%XX` escapes and `+` as space.
pub(crate) fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    let mut bytes = Vec::with_capacity(spaced.len());
    let raw = spaced.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && i + 2 < raw.len()
            && let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2]))
        {
            bytes.push(h * 16 + l);
            i += 3;
            continue;
        }
        bytes.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Form encoding, commas included.
pub(crate) fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Who a request runs as: the authenticated principal (after user mapping), or, with
/// authentication off, the user header or a password-less Basic user. A user header naming
/// someone else is impersonation, refused until access control can allow it.
pub(crate) fn request_identity(
    headers: &HeaderMap,
    family: ProtocolHeaders,
    principal: Option<&Principal>,
) -> Result<Identity, RequestError> {
    let header_user = text(headers, family.user())?;
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
    let identity = request_identity(headers, family, principal)?;
    let owned = |v: Option<&str>| v.map(str::to_string);
    let mut session = Session {
        identity,
        source: owned(text(headers, family.source())?),
        catalog: owned(text(headers, family.catalog())?),
        schema: owned(text(headers, family.schema())?),
        path: owned(text(headers, family.path())?),
        time_zone: owned(text(headers, family.time_zone())?),
        language: owned(text(headers, family.language())?),
        client_info: owned(text(headers, family.client_info())?),
        client_tags: items(headers, family.client_tags())?,
        client_capabilities: items(headers, family.client_capabilities())?
            .into_iter()
            .collect(),
        transaction_id: owned(text(headers, family.transaction_id())?),
        trace_token: owned(text(headers, family.trace_token())?),
        ..Session::default()
    };
    if session.schema.is_some() && session.catalog.is_none() {
        return Err(RequestError::BadRequest(
            "Schema is set but catalog is not".to_string(),
        ));
    }
    for (name, value) in pairs(headers, family.session())? {
        session.properties.insert(name, value);
    }
    for (name, sql) in pairs(headers, family.prepared_statement())? {
        session.prepared_statements.insert(name, sql);
    }
    Ok(session)
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
