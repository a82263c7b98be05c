//! Trino functions DataFusion lacks or names differently. (The full Trino function library is
//! the SQL-dialect issue's work; this holds what clients call on their own.)

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

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

/// The functions added on top of DataFusion's.
pub fn trino_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(Version {
            signature: Signature::exact(vec![], Volatility::Stable),
        })),
        Arc::new(ScalarUDF::from(TypeOf {
            signature: Signature::any(1, Volatility::Immutable),
        })),
    ]
}
