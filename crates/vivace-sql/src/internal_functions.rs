//! Names of the internal functions that the rewrites emit; the function library registers
//! functions under these names.

/// `__trino_cast(value, 'type', try)`: Trino's cast to a type written as text.
pub const TRINO_CAST: &str = "__trino_cast";

/// What `map_agg(k, v)` is rewritten to, around `array_agg` of the entries: `map_from_entries`
/// that keeps the first value of a repeated key and skips NULL keys, as Trino's `map_agg` does.
pub const MAP_AGG_ENTRIES: &str = "__map_agg_entries";

/// `__histogram(array_agg(x))`: what `histogram(x)` is rewritten to.
pub const HISTOGRAM: &str = "__histogram";
