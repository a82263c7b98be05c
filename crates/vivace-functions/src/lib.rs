//! The Trino function library over DataFusion: how Arrow types read as Trino types
//! ([`types`]), Trino's casts ([`cast`]), the protocol's JSON encoding of Arrow values
//! ([`encode`]), the functions DataFusion lacks or names differently ([`functions`]), and the
//! one DataFusion session setup that the coordinator and every worker call ([`setup`]).
//!
//! It sits above the SQL front end (whose internal function names it implements) and the
//! connector SPI (whose type metadata it reads). It must not depend on the engine, the
//! cluster layer, the server or security: it knows values and functions, not queries.

pub mod cast;
mod cast_json;
pub mod encode;
pub mod functions;
pub mod setup;
pub mod types;
