//! Functions that build large values from small arguments, held to Trino's limits before they
//! allocate: `sequence` (DataFusion's `generate_series`) at 10,000 entries, `repeat` and
//! `array_repeat` at 100,000 copies and 4 MB, `lpad`/`rpad` at [`MAX_PADDED_BYTES`]. Without
//! these, one call such as `sequence(1, 150000000)` or `lpad('x', 1000000000, 'y')` allocates
//! gigabytes in a single kernel, before any memory pool sees it.
//!
//! Each guard wraps DataFusion's own function and checks the arguments of every call (constant
//! folding included) before handing them on.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, FieldRef, Int64Type, IntervalMonthDayNanoType, TimeUnit};
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};
use vivace_common::{ErrorCode, TrinoError};

/// Trino's `sequence` limit.
pub const MAX_SEQUENCE_ENTRIES: i128 = 10_000;
/// Trino's `repeat` limits.
pub const MAX_REPEAT_COUNT: i64 = 100_000;
/// See [`MAX_REPEAT_COUNT`].
pub const MAX_REPEAT_BYTES: i64 = 4 << 20;
/// The largest value `lpad`/`rpad` may build (Trino allows up to 2 GB, which no query pool
/// here would hold).
pub const MAX_PADDED_BYTES: i64 = 16 << 20;

/// Which limit a guard checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Limit {
    Sequence,
    Repeat,
    Pad,
}

/// DataFusion's function `inner`, checked against `limit` before each call.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Guarded {
    inner: Arc<ScalarUDF>,
    limit: Limit,
}

/// The guarded replacements, registered over DataFusion's functions of the same names.
pub(crate) fn size_limited_functions() -> Vec<Arc<ScalarUDF>> {
    use datafusion::functions::{string, unicode};
    use datafusion::functions_nested::{range, repeat};
    let guard = |inner: Arc<ScalarUDF>, limit| Arc::new(ScalarUDF::from(Guarded { inner, limit }));
    vec![
        guard(range::gen_series_udf(), Limit::Sequence),
        guard(range::range_udf(), Limit::Sequence),
        guard(string::repeat(), Limit::Repeat),
        guard(repeat::array_repeat_udf(), Limit::Repeat),
        guard(unicode::lpad(), Limit::Pad),
        guard(unicode::rpad(), Limit::Pad),
    ]
}

impl ScalarUDFImpl for Guarded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> DfResult<DataType> {
        self.inner.return_type(args)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let (arrays, rows, _) = super::argument_arrays(&args)?;
        let check = match self.limit {
            Limit::Sequence => check_sequence(&arrays, rows),
            Limit::Repeat => check_repeat(&arrays, rows),
            Limit::Pad => check_pad(self.inner.name(), &arrays, rows),
        };
        check?;
        self.inner.invoke_with_args(args)
    }
}

fn invalid(message: String) -> DataFusionError {
    trino_error(ErrorCode::INVALID_FUNCTION_ARGUMENT, message)
}

/// A limit's error, carried through DataFusion with its Trino code.
fn trino_error(code: ErrorCode, message: String) -> DataFusionError {
    DataFusionError::External(Box::new(TrinoError::new(code, message)))
}

/// `start`, `stop` and `step` of each row in one unit (integers, days or the timestamp's
/// unit); the entry count is bounded before DataFusion builds the lists.
fn check_sequence(arrays: &[ArrayRef], rows: usize) -> DfResult<()> {
    let (Some(start), Some(stop)) = (arrays.first(), arrays.get(1)) else {
        return Ok(());
    };
    let unit_nanos: i128 = match start.data_type() {
        DataType::Date32 => 86_400_000_000_000,
        DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1,
        _ => 0,
    };
    let as_i64 = |array: &ArrayRef| -> DfResult<ArrayRef> {
        arrow::compute::cast(array, &DataType::Int64).map_err(DataFusionError::from)
    };
    let (start, stop) = (as_i64(start)?, as_i64(stop)?);
    let (start, stop) = (
        start.as_primitive::<Int64Type>(),
        stop.as_primitive::<Int64Type>(),
    );
    for row in 0..rows {
        if start.is_null(row) || stop.is_null(row) {
            continue;
        }
        let span = (i128::from(stop.value(row)) - i128::from(start.value(row))).abs();
        let step = match arrays.get(2) {
            None => 1,
            Some(step) if step.is_null(row) => continue,
            Some(step) => step_in_units(step, row, unit_nanos)?,
        };
        if step == 0 {
            // DataFusion reports a zero step itself.
            continue;
        }
        if span / step.abs() + 1 > MAX_SEQUENCE_ENTRIES {
            return Err(invalid(format!(
                "result of sequence function must not have more than {MAX_SEQUENCE_ENTRIES} entries"
            )));
        }
    }
    Ok(())
}

/// A step as a count of the start's units; an interval is taken at its shortest (a month as
/// 28 days), so the entry count is never under-estimated.
fn step_in_units(step: &ArrayRef, row: usize, unit_nanos: i128) -> DfResult<i128> {
    match step.data_type() {
        DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano) => {
            let value = step.as_primitive::<IntervalMonthDayNanoType>().value(row);
            let day = 86_400_000_000_000i128;
            let nanos = i128::from(value.months) * 28 * day
                + i128::from(value.days) * day
                + i128::from(value.nanoseconds);
            if unit_nanos == 0 {
                return Ok(nanos.signum());
            }
            // A step shorter than the unit still moves by at least one unit.
            Ok(match nanos / unit_nanos {
                0 => nanos.signum(),
                units => units,
            })
        }
        _ => {
            let step = arrow::compute::cast(step, &DataType::Int64)?;
            Ok(i128::from(step.as_primitive::<Int64Type>().value(row)))
        }
    }
}

/// `repeat(text, n)` and `array_repeat(element, n)`.
fn check_repeat(arrays: &[ArrayRef], rows: usize) -> DfResult<()> {
    let (Some(element), Some(count)) = (arrays.first(), arrays.get(1)) else {
        return Ok(());
    };
    let count = arrow::compute::cast(count, &DataType::Int64)?;
    let count = count.as_primitive::<Int64Type>();
    let text = super::is_text(element.data_type())
        .then(|| super::text_array(element))
        .transpose()?;
    for row in 0..rows {
        if count.is_null(row) {
            continue;
        }
        let n = count.value(row);
        if n > MAX_REPEAT_COUNT {
            return Err(invalid(format!(
                "count argument of repeat function must be less than or equal to {MAX_REPEAT_COUNT}"
            )));
        }
        let element_bytes = match &text {
            Some(text) if !text.is_null(row) => text.value(row).len() as i64,
            Some(_) => 0,
            None => element.get_array_memory_size() as i64 / element.len().max(1) as i64,
        };
        if n.max(0).saturating_mul(element_bytes) > MAX_REPEAT_BYTES {
            return Err(invalid(format!(
                "result of repeat function must not take more than {MAX_REPEAT_BYTES} bytes"
            )));
        }
    }
    Ok(())
}

/// `lpad`/`rpad(text, length[, padding])`: a character may take four bytes.
fn check_pad(name: &str, arrays: &[ArrayRef], rows: usize) -> DfResult<()> {
    let Some(length) = arrays.get(1) else {
        return Ok(());
    };
    let length = arrow::compute::cast(length, &DataType::Int64)?;
    let length = length.as_primitive::<Int64Type>();
    for row in 0..rows {
        if length.is_null(row) {
            continue;
        }
        let target = length.value(row);
        if !(0..=i64::from(i32::MAX)).contains(&target) {
            return Err(invalid(
                "Target length must be in the range [0..2147483647]".to_string(),
            ));
        }
        if target.saturating_mul(4) > MAX_PADDED_BYTES {
            return Err(trino_error(
                ErrorCode::EXCEEDED_FUNCTION_MEMORY_LIMIT,
                format!(
                    "{name} target length {target} exceeds the {} MB one value may take",
                    MAX_PADDED_BYTES >> 20
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use arrow::array::{Date32Array, Int64Array, StringArray};

    use super::*;

    fn ints(values: &[i64]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    #[test]
    fn sequence_is_bounded_before_it_allocates() {
        assert!(check_sequence(&[ints(&[1]), ints(&[10_000])], 1).is_ok());
        let error = check_sequence(&[ints(&[1]), ints(&[150_000_000])], 1).unwrap_err();
        assert!(error.to_string().contains("10000 entries"));
        assert!(check_sequence(&[ints(&[1]), ints(&[150_000_000]), ints(&[100_000])], 1).is_ok());
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![0]));
        let far: ArrayRef = Arc::new(Date32Array::from(vec![20_000]));
        assert!(check_sequence(&[dates, far], 1).is_err());
    }

    #[test]
    fn repeat_and_pad_limits() {
        let text: ArrayRef = Arc::new(StringArray::from(vec!["ab"]));
        assert!(check_repeat(&[Arc::clone(&text), ints(&[1_000])], 1).is_ok());
        assert!(check_repeat(&[Arc::clone(&text), ints(&[100_001])], 1).is_err());
        let big: ArrayRef = Arc::new(StringArray::from(vec!["x".repeat(1_000)]));
        assert!(check_repeat(&[big, ints(&[10_000])], 1).is_err());
        assert!(check_pad("lpad", &[Arc::clone(&text), ints(&[1_000])], 1).is_ok());
        let error = check_pad("lpad", &[Arc::clone(&text), ints(&[1_000_000_000])], 1).unwrap_err();
        let DataFusionError::External(inner) = error else {
            panic!("not a typed error: {error}");
        };
        let trino = inner.downcast_ref::<TrinoError>().expect("a Trino error");
        assert_eq!(trino.code, ErrorCode::EXCEEDED_FUNCTION_MEMORY_LIMIT);
        assert!(check_pad("lpad", &[text, ints(&[-1])], 1).is_err());
    }
}
