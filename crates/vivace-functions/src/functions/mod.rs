//! Trino functions DataFusion lacks or names differently. (The full Trino function library is
//! the SQL-dialect issue's work; this holds what clients call on their own.)

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, StringArray, StringBuilder};
use arrow::datatypes::{DataType, FieldRef};
use arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use vivace_protocol::TrinoType;

mod collections;
mod datetime;
mod datetime_text;
mod format;
mod java_format;
mod json;
mod json_path;
mod lambdas;
mod regexp;
mod size_limits;

/// `version()`: the Trino-compatible version number, which SQLAlchemy and others parse.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Version {
    signature: Signature,
}

impl ScalarUDFImpl for Version {
    fn name(&self) -> &str {
        "version"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            vivace_common::TRINO_COMPATIBLE_VERSION.to_string(),
        ))))
    }
}

/// `typeof(x)`: the Trino name of the argument's type.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf {
    signature: Signature,
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let name = args
            .arg_fields
            .first()
            .map(|field| crate::types::trino_type_of_field(field).to_string());
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(name)))
    }
}

/// A function of no arguments returning a constant double (`nan()`, `infinity()`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ConstantDouble {
    name: &'static str,
    bits: u64,
    signature: Signature,
}

impl ScalarUDFImpl for ConstantDouble {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Float64(Some(
            f64::from_bits(self.bits),
        ))))
    }
}

/// `json_parse(varchar) -> json` and `json_format(json) -> varchar`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonText {
    parse: bool,
    signature: Signature,
}

impl ScalarUDFImpl for JsonText {
    fn name(&self) -> &str {
        if self.parse {
            "json_parse"
        } else {
            "json_format"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        let result = if self.parse {
            TrinoType::Json
        } else {
            TrinoType::VARCHAR
        };
        Ok(Arc::new(crate::types::tagged_field(
            self.name(),
            &result,
            "UTC",
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let Some(input) = args.args.first() else {
            return exec_err!("{} takes one argument", self.name());
        };
        let is_scalar = matches!(input, ColumnarValue::Scalar(_));
        let array = input.to_array(args.number_rows.max(1))?;
        let text = arrow::compute::cast(&array, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let mut out = StringBuilder::new();
        for value in text.iter() {
            match value {
                None => out.append_null(),
                Some(s) => match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(parsed) => out.append_value(parsed.to_string()),
                    Err(_) if !self.parse => out.append_value(s),
                    Err(e) => {
                        return exec_err!("Cannot convert value to JSON: '{s}': {e}");
                    }
                },
            }
        }
        columnar(Arc::new(out.finish()), is_scalar)
    }
}

/// `result` as a function's value: a scalar when every argument was one (`result` then holds
/// one row), an array otherwise.
pub(crate) fn columnar(result: ArrayRef, scalar: bool) -> DfResult<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// A call's arguments as arrays, their row count, and whether all were scalars (the arrays
/// then hold one row).
pub(crate) fn argument_arrays(args: &ScalarFunctionArgs) -> DfResult<(Vec<ArrayRef>, usize, bool)> {
    let all_scalar = args
        .args
        .iter()
        .all(|arg| matches!(arg, ColumnarValue::Scalar(_)));
    let rows = if all_scalar { 1 } else { args.number_rows };
    let arrays = args
        .args
        .iter()
        .map(|arg| arg.to_array(rows))
        .collect::<DfResult<Vec<_>>>()?;
    Ok((arrays, rows, all_scalar))
}

/// Trino's error for a call no signature of `name` takes; `expected` lists the signatures.
pub(crate) fn unexpected_parameters<T>(
    name: &str,
    types: &[DataType],
    expected: &str,
) -> DfResult<T> {
    let names: Vec<String> = types
        .iter()
        .map(|t| crate::types::trino_type_of(t).to_string())
        .collect();
    datafusion::common::plan_err!(
        "Unexpected parameters ({}) for function {name}. Expected: {expected}",
        names.join(", ")
    )
}

/// An `INVALID_FUNCTION_ARGUMENT` error.
pub(crate) fn invalid_argument(message: String) -> DataFusionError {
    DataFusionError::ArrowError(Box::new(ArrowError::InvalidArgumentError(message)), None)
}

/// Whether an argument type reads as text (a bare NULL included).
pub(crate) fn is_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    )
}

/// Any string array as `Utf8`.
pub(crate) fn text_array(array: &ArrayRef) -> DfResult<StringArray> {
    let text = arrow::compute::cast(array, &DataType::Utf8)?;
    Ok(text.as_string::<i32>().clone())
}

/// The functions taking lambdas added on top of DataFusion's (`reduce`, `zip_with`).
pub fn trino_lambda_functions() -> Vec<Arc<datafusion::logical_expr::HigherOrderUDF>> {
    lambdas::lambda_functions()
}

/// The functions added on top of DataFusion's (besides Trino's cast, which `setup` adds).
pub fn trino_functions() -> Vec<Arc<ScalarUDF>> {
    let constant = |name: &'static str, value: f64| {
        Arc::new(ScalarUDF::from(ConstantDouble {
            name,
            bits: value.to_bits(),
            signature: Signature::exact(vec![], Volatility::Immutable),
        }))
    };
    let json = |parse: bool| {
        Arc::new(ScalarUDF::from(JsonText {
            parse,
            signature: Signature::any(1, Volatility::Immutable),
        }))
    };
    let mut functions = vec![
        constant("nan", f64::NAN),
        constant("infinity", f64::INFINITY),
        json(true),
        json(false),
        Arc::new(ScalarUDF::from(Version {
            signature: Signature::exact(vec![], Volatility::Stable),
        })),
        Arc::new(ScalarUDF::from(TypeOf {
            signature: Signature::any(1, Volatility::Immutable),
        })),
    ];
    functions.extend(json::json_functions());
    functions.extend(collections::collection_functions());
    functions.extend(regexp::regexp_functions());
    functions.push(format::format_function());
    functions.extend(size_limits::size_limited_functions());
    functions.extend(datetime::datetime_functions(
        &datafusion::common::config::ConfigOptions::default(),
    ));
    functions
}
