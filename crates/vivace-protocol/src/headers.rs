//! Header names for the two header families, `X-Trino-*` and `X-Presto-*`.

/// The header family a query speaks: chosen per request, answered in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolHeaders {
    /// `X-Trino-*` (Trino 351 and later).
    Trino,
    /// `X-Presto-*` (PrestoDB, old Trino, `presto-python-client`).
    Presto,
}

macro_rules! header_names {
    ($($method:ident => $suffix:literal),* $(,)?) => {
        impl ProtocolHeaders {
            $(
                #[doc = concat!("`X-{Trino|Presto}-", $suffix, "`, lower-cased.")]
                pub fn $method(self) -> &'static str {
                    match self {
                        ProtocolHeaders::Trino => concat!("x-trino-", $suffix),
                        ProtocolHeaders::Presto => concat!("x-presto-", $suffix),
                    }
                }
            )*
        }
    };
}

header_names! {
    user => "user",
    original_user => "original-user",
    source => "source",
    catalog => "catalog",
    schema => "schema",
    path => "path",
    time_zone => "time-zone",
    language => "language",
    trace_token => "trace-token",
    session => "session",
    role => "role",
    prepared_statement => "prepared-statement",
    transaction_id => "transaction-id",
    client_info => "client-info",
    client_tags => "client-tags",
    client_capabilities => "client-capabilities",
    resource_estimate => "resource-estimate",
    extra_credential => "extra-credential",
    set_catalog => "set-catalog",
    set_schema => "set-schema",
    set_path => "set-path",
    set_session => "set-session",
    clear_session => "clear-session",
    set_role => "set-role",
    added_prepare => "added-prepare",
    deallocated_prepare => "deallocated-prepare",
    started_transaction_id => "started-transaction-id",
    clear_transaction_id => "clear-transaction-id",
    set_authorization_user => "set-authorization-user",
    reset_authorization_user => "reset-authorization-user",
}

impl ProtocolHeaders {
    /// The lower-case prefix, `x-trino-` or `x-presto-`.
    pub fn prefix(self) -> &'static str {
        match self {
            ProtocolHeaders::Trino => "x-trino-",
            ProtocolHeaders::Presto => "x-presto-",
        }
    }
}
