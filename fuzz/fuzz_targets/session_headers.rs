//! A statement request's headers: the family, the requested session, form decoding.
//! The input is read as `name: value` lines; lines that are not a valid header are skipped,
//! as hyper would have refused them before the server saw them.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use vivace_protocol::RequestedSession;
use vivace_protocol::request_headers::{detect_family, form_decode, header_pairs};

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(value.trim_ascii()),
        ) {
            headers.append(name, value);
        }
    }
    if let Ok(family) = detect_family(&headers) {
        let _ = RequestedSession::from_headers(&headers, family);
        let _ = header_pairs(&headers, family.session());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = form_decode(text);
    }
});
