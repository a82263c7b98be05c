//! Reading a request's protocol headers: the header family, and the session a statement
//! request asks for (catalog, schema, session properties, prepared statements, ...).
//!
//! Everything here is pure parsing of untrusted text, kept free of the server so it can be
//! fuzzed on its own (`fuzz/fuzz_targets/session_headers.rs`).

use std::fmt;

use http::HeaderMap;

use crate::ProtocolHeaders;

/// A header that cannot be read; the message names the header and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError(pub String);

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HeaderError {}

/// Picks the header family: Presto when only `X-Presto-*` headers are present.
pub fn detect_family(headers: &HeaderMap) -> Result<ProtocolHeaders, HeaderError> {
    let mut trino = false;
    let mut presto = false;
    for name in headers.keys() {
        let name = name.as_str();
        trino |= name.starts_with("x-trino-");
        presto |= name.starts_with("x-presto-");
    }
    match (trino, presto) {
        (true, true) => Err(HeaderError(
            "Both Trino and Presto headers detected".to_string(),
        )),
        (false, true) => Ok(ProtocolHeaders::Presto),
        _ => Ok(ProtocolHeaders::Trino),
    }
}

/// The trimmed value of a single-valued header; `None` when absent or blank.
pub fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, HeaderError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.trim()).filter(|v| !v.is_empty()))
            .map_err(|_| HeaderError(format!("Invalid {name} header: not ASCII"))),
    }
}

/// Every comma-separated item of every line of a repeated header.
pub fn header_items(headers: &HeaderMap, name: &str) -> Result<Vec<String>, HeaderError> {
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        let line = value
            .to_str()
            .map_err(|_| HeaderError(format!("Invalid {name} header: not ASCII")))?;
        out.extend(
            line.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    Ok(out)
}

/// The `key=urlencoded(value)` items of a header, decoded.
pub fn header_pairs(headers: &HeaderMap, name: &str) -> Result<Vec<(String, String)>, HeaderError> {
    header_items(headers, name)?
        .into_iter()
        .map(|item| {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                HeaderError(format!("Invalid {name} header: '{item}' is not key=value"))
            })?;
            let key = form_decode(key.trim());
            if key.is_empty() {
                return Err(HeaderError(format!(
                    "Invalid {name} header: empty name in '{item}'"
                )));
            }
            Ok((key, form_decode(value.trim())))
        })
        .collect()
}

/// Form decoding: `%XX` escapes and `+` as space; bytes that are not UTF-8 become U+FFFD.
pub fn form_decode(text: &str) -> String {
    let raw = text.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let (Some(high), Some(low)) = (
                raw.get(i + 1).and_then(|b| hex_digit(*b)),
                raw.get(i + 2).and_then(|b| hex_digit(*b)),
            )
        {
            bytes.push(high * 16 + low);
            i += 3;
            continue;
        }
        bytes.push(if raw[i] == b'+' { b' ' } else { raw[i] });
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Form encoding, commas included.
pub fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The session a statement request asks for, as its headers say; who the user is is decided
/// by authentication, so [`RequestedSession::user`] is only what the header claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestedSession {
    /// `X-Trino-User`.
    pub user: Option<String>,
    /// `X-Trino-Source`.
    pub source: Option<String>,
    /// `X-Trino-Catalog`.
    pub catalog: Option<String>,
    /// `X-Trino-Schema`; never set without a catalog.
    pub schema: Option<String>,
    /// `X-Trino-Path`.
    pub path: Option<String>,
    /// `X-Trino-Time-Zone`.
    pub time_zone: Option<String>,
    /// `X-Trino-Language`.
    pub language: Option<String>,
    /// `X-Trino-Client-Info`.
    pub client_info: Option<String>,
    /// `X-Trino-Client-Tags`, every item.
    pub client_tags: Vec<String>,
    /// `X-Trino-Client-Capabilities`, every item.
    pub client_capabilities: Vec<String>,
    /// `X-Trino-Transaction-Id`.
    pub transaction_id: Option<String>,
    /// `X-Trino-Trace-Token`.
    pub trace_token: Option<String>,
    /// `X-Trino-Session`: property name and decoded value, in order.
    pub properties: Vec<(String, String)>,
    /// `X-Trino-Prepared-Statement`: name and decoded SQL, in order.
    pub prepared_statements: Vec<(String, String)>,
}

impl RequestedSession {
    /// Reads the session headers of `family`.
    pub fn from_headers(
        headers: &HeaderMap,
        family: ProtocolHeaders,
    ) -> Result<RequestedSession, HeaderError> {
        let owned = |v: Option<&str>| v.map(str::to_string);
        let session = RequestedSession {
            user: owned(header_text(headers, family.user())?),
            source: owned(header_text(headers, family.source())?),
            catalog: owned(header_text(headers, family.catalog())?),
            schema: owned(header_text(headers, family.schema())?),
            path: owned(header_text(headers, family.path())?),
            time_zone: owned(header_text(headers, family.time_zone())?),
            language: owned(header_text(headers, family.language())?),
            client_info: owned(header_text(headers, family.client_info())?),
            client_tags: header_items(headers, family.client_tags())?,
            client_capabilities: header_items(headers, family.client_capabilities())?,
            transaction_id: owned(header_text(headers, family.transaction_id())?),
            trace_token: owned(header_text(headers, family.trace_token())?),
            properties: header_pairs(headers, family.session())?,
            prepared_statements: header_pairs(headers, family.prepared_statement())?,
        };
        if session.schema.is_some() && session.catalog.is_none() {
            return Err(HeaderError("Schema is set but catalog is not".to_string()));
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn every_session_header_is_read_in_order() {
        let map = headers(&[
            ("x-trino-user", "alice"),
            ("x-trino-catalog", "tpch"),
            ("x-trino-schema", "tiny"),
            ("x-trino-client-tags", "a, b,,c"),
            ("x-trino-prepared-statement", "q1=SELECT+%3F, q2=SELECT+1"),
            ("x-trino-session", "p=1"),
            ("x-trino-session", "p=2"),
        ]);
        let family = detect_family(&map).unwrap();
        assert_eq!(family, ProtocolHeaders::Trino);
        let session = RequestedSession::from_headers(&map, family).unwrap();
        assert_eq!(session.schema.as_deref(), Some("tiny"));
        assert_eq!(session.client_tags, vec!["a", "b", "c"]);
        assert_eq!(
            session.prepared_statements,
            vec![
                ("q1".to_string(), "SELECT ?".to_string()),
                ("q2".to_string(), "SELECT 1".to_string()),
            ]
        );
        // Both lines are kept in order; the later one wins when they become a session.
        assert_eq!(
            session.properties,
            vec![
                ("p".to_string(), "1".to_string()),
                ("p".to_string(), "2".to_string()),
            ]
        );
    }

    #[test]
    fn bad_headers_are_rejected() {
        let map = headers(&[("x-trino-user", "a"), ("x-presto-user", "b")]);
        assert!(detect_family(&map).is_err());
        let map = headers(&[("x-trino-user", "a"), ("x-trino-session", "novalue")]);
        assert!(RequestedSession::from_headers(&map, ProtocolHeaders::Trino).is_err());
        let map = headers(&[("x-trino-session", "=x")]);
        assert!(RequestedSession::from_headers(&map, ProtocolHeaders::Trino).is_err());
        let map = headers(&[("x-trino-schema", "s")]);
        assert!(RequestedSession::from_headers(&map, ProtocolHeaders::Trino).is_err());
        let empty_session = headers(&[("x-trino-user", "a"), ("x-trino-session", "")]);
        assert!(RequestedSession::from_headers(&empty_session, ProtocolHeaders::Trino).is_ok());
    }

    #[test]
    fn form_coding() {
        assert_eq!(form_decode("a+b%2Cc%2B"), "a b,c+");
        assert_eq!(form_decode("%"), "%");
        assert_eq!(form_decode("%4"), "%4");
        assert_eq!(form_decode("%41"), "A");
        assert_eq!(form_decode("%zz%ff"), "%zz\u{fffd}");
        assert_eq!(form_encode("a b,c"), "a+b%2Cc");
    }
}
