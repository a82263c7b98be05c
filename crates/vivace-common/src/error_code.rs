//! Trino's error codes: the numbers, names and types clients key on.
//!
//! Every crate's error enum maps each of its variants to one of these; the server turns them into
//! the wire `error` object in exactly one place.

use std::fmt;

/// The class of an error, as Trino reports it in `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The user's query or input is wrong.
    User,
    /// A bug or unexpected condition inside the server.
    Internal,
    /// A resource limit (memory, time, queue) was hit.
    InsufficientResources,
    /// An external system (a connector's source, an authentication service) failed.
    External,
}

impl ErrorKind {
    /// The wire name of this kind (`USER_ERROR`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::User => "USER_ERROR",
            ErrorKind::Internal => "INTERNAL_ERROR",
            ErrorKind::InsufficientResources => "INSUFFICIENT_RESOURCES",
            ErrorKind::External => "EXTERNAL",
        }
    }
}

/// One Trino error code: its number, its name and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode {
    /// The numeric code (`errorCode`).
    pub code: i32,
    /// The name (`errorName`), for example `TABLE_NOT_FOUND`.
    pub name: &'static str,
    /// The kind (`errorType`).
    pub kind: ErrorKind,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.code)
    }
}

macro_rules! codes {
    ($kind:ident, $base:expr, { $($name:ident = $offset:expr),* $(,)? }) => {
        $(
            #[doc = concat!("Trino's `", stringify!($name), "`.")]
            pub const $name: ErrorCode = ErrorCode {
                code: $base + $offset,
                name: stringify!($name),
                kind: ErrorKind::$kind,
            };
        )*
    };
}

impl ErrorCode {
    codes!(User, 0, {
        GENERIC_USER_ERROR = 0,
        SYNTAX_ERROR = 1,
        ABANDONED_QUERY = 2,
        USER_CANCELED = 3,
        PERMISSION_DENIED = 4,
        NOT_FOUND = 5,
        FUNCTION_NOT_FOUND = 6,
        INVALID_FUNCTION_ARGUMENT = 7,
        DIVISION_BY_ZERO = 8,
        INVALID_CAST_ARGUMENT = 9,
        OPERATOR_NOT_FOUND = 10,
        INVALID_VIEW = 11,
        ALREADY_EXISTS = 12,
        NOT_SUPPORTED = 13,
        INVALID_SESSION_PROPERTY = 14,
        CONSTRAINT_VIOLATION = 16,
        TRANSACTION_CONFLICT = 17,
        INVALID_TABLE_PROPERTY = 18,
        NUMERIC_VALUE_OUT_OF_RANGE = 19,
        UNKNOWN_TRANSACTION = 20,
        NOT_IN_TRANSACTION = 21,
        TRANSACTION_ALREADY_ABORTED = 22,
        READ_ONLY_VIOLATION = 23,
        UNSUPPORTED_ISOLATION_LEVEL = 26,
        INCOMPATIBLE_CLIENT = 27,
        SUBQUERY_MULTIPLE_ROWS = 28,
        PROCEDURE_NOT_FOUND = 29,
        INVALID_PROCEDURE_ARGUMENT = 30,
        QUERY_REJECTED = 31,
        SCHEMA_NOT_EMPTY = 34,
        QUERY_TEXT_TOO_LARGE = 35,
        EXCEEDED_FUNCTION_MEMORY_LIMIT = 37,
        ADMINISTRATIVELY_KILLED = 38,
        INVALID_COLUMN_PROPERTY = 39,
        QUERY_HAS_TOO_MANY_STAGES = 40,
        TYPE_NOT_FOUND = 43,
        CATALOG_NOT_FOUND = 44,
        SCHEMA_NOT_FOUND = 45,
        TABLE_NOT_FOUND = 46,
        COLUMN_NOT_FOUND = 47,
        ROLE_NOT_FOUND = 48,
        SCHEMA_ALREADY_EXISTS = 49,
        TABLE_ALREADY_EXISTS = 50,
        COLUMN_ALREADY_EXISTS = 51,
        DUPLICATE_COLUMN_NAME = 54,
        MISSING_COLUMN_NAME = 55,
        MISSING_CATALOG_NAME = 56,
        MISSING_SCHEMA_NAME = 57,
        TYPE_MISMATCH = 58,
        INVALID_LITERAL = 59,
        AMBIGUOUS_NAME = 62,
        MISSING_GROUP_BY = 64,
        EXPRESSION_NOT_AGGREGATE = 73,
        TOO_MANY_ARGUMENTS = 77,
        INVALID_PARAMETER_USAGE = 80,
        MISSING_TABLE = 86,
        STACK_OVERFLOW = 108,
    });

    codes!(Internal, 0x1_0000, {
        GENERIC_INTERNAL_ERROR = 0,
        TOO_MANY_REQUESTS_FAILED = 1,
        PAGE_TOO_LARGE = 2,
        PAGE_TRANSPORT_ERROR = 3,
        PAGE_TRANSPORT_TIMEOUT = 4,
        NO_NODES_AVAILABLE = 5,
        REMOTE_TASK_ERROR = 6,
        COMPILER_ERROR = 7,
        REMOTE_TASK_MISMATCH = 8,
        SERVER_SHUTTING_DOWN = 9,
        SERVER_STARTING_UP = 12,
        OPTIMIZER_TIMEOUT = 20,
        SERIALIZATION_ERROR = 26,
    });

    codes!(InsufficientResources, 0x2_0000, {
        GENERIC_INSUFFICIENT_RESOURCES = 0,
        EXCEEDED_GLOBAL_MEMORY_LIMIT = 1,
        QUERY_QUEUE_FULL = 2,
        EXCEEDED_TIME_LIMIT = 3,
        CLUSTER_OUT_OF_MEMORY = 4,
        EXCEEDED_CPU_LIMIT = 5,
        EXCEEDED_SPILL_LIMIT = 6,
        EXCEEDED_LOCAL_MEMORY_LIMIT = 7,
    });

    codes!(External, 0x0100_0000, {
        GENERIC_EXTERNAL = 0,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_trino_numbers() {
        assert_eq!(ErrorCode::SYNTAX_ERROR.code, 1);
        assert_eq!(ErrorCode::TABLE_NOT_FOUND.code, 46);
        assert_eq!(ErrorCode::GENERIC_INTERNAL_ERROR.code, 65536);
        assert_eq!(ErrorCode::SERVER_SHUTTING_DOWN.code, 65545);
        assert_eq!(ErrorCode::EXCEEDED_TIME_LIMIT.code, 131075);
        assert_eq!(ErrorCode::EXCEEDED_LOCAL_MEMORY_LIMIT.code, 131079);
        assert_eq!(ErrorCode::USER_CANCELED.kind.as_str(), "USER_ERROR");
        assert_eq!(ErrorCode::TABLE_NOT_FOUND.name, "TABLE_NOT_FOUND");
        assert_eq!(ErrorCode::QUERY_TEXT_TOO_LARGE.code, 35);
        assert_eq!(ErrorCode::STACK_OVERFLOW.code, 108);
        assert_eq!(ErrorCode::OPTIMIZER_TIMEOUT.code, 65556);
    }
}
