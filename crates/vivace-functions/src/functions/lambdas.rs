//! Trino's functions taking lambdas that DataFusion lacks: `reduce(array, initial, (s, x) -> s',
//! s -> result)`, `zip_with(a, b, (x, y) -> z)`, and over maps `transform_keys`,
//! `transform_values` and `map_filter` (`(k, v) -> ...`). (`transform`, `filter` and `any_match`
//! are DataFusion's own, renamed in `function_rewrite.rs`.)
//!
//! Each lambda runs once per batch step over many rows at a time: `zip_with` over all element
//! pairs at once, `reduce` once per element position across every array still that long.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array, new_null_array};
use arrow::buffer::OffsetBuffer;
use arrow::compute::{take, take_arrays};
use arrow::datatypes::{DataType, Field, FieldRef};

use super::collections::map_type;
use datafusion::common::{Result as DfResult, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaArgument, LambdaParametersProgress, ValueOrLambda,
    Volatility,
};

/// The higher-order functions added on top of DataFusion's.
pub(super) fn lambda_functions() -> Vec<Arc<HigherOrderUDF>> {
    vec![
        Arc::new(HigherOrderUDF::from(Reduce::new())),
        Arc::new(HigherOrderUDF::from(ZipWith::new())),
        Arc::new(HigherOrderUDF::from(MapLambda::new(
            MapFunction::TransformKeys,
        ))),
        Arc::new(HigherOrderUDF::from(MapLambda::new(
            MapFunction::TransformValues,
        ))),
        Arc::new(HigherOrderUDF::from(MapLambda::new(MapFunction::Filter))),
    ]
}

/// The element field of a list type.
fn element(data_type: &DataType) -> Option<&FieldRef> {
    match data_type {
        DataType::List(item) | DataType::LargeList(item) => Some(item),
        _ => None,
    }
}

/// A list type as these functions read it (large and fixed-size lists become lists).
fn as_list_type(name: &str, data_type: &DataType) -> DfResult<DataType> {
    match data_type {
        DataType::List(_) => Ok(data_type.clone()),
        DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            Ok(DataType::List(Arc::clone(item)))
        }
        DataType::Null => Ok(DataType::new_list(DataType::Null, true)),
        other => plan_err!(
            "Unexpected parameters for function {name}: expected an array, got {}",
            crate::types::trino_type_of(other)
        ),
    }
}

fn nullable(field: &FieldRef) -> FieldRef {
    Arc::new(field.as_ref().clone().with_nullable(true))
}

/// Runs `lambda` over `rows` rows of parameters; captured columns are taken at `source_rows`
/// (the outer row of each of the `rows`).
fn run_lambda(
    lambda: &LambdaArgument,
    parameters: &[ArrayRef],
    source_rows: &UInt32Array,
    rows: usize,
) -> DfResult<ArrayRef> {
    let closures: Vec<Box<dyn Fn() -> DfResult<ArrayRef>>> = parameters
        .iter()
        .map(|p| {
            let p = Arc::clone(p);
            Box::new(move || Ok(Arc::clone(&p))) as Box<dyn Fn() -> DfResult<ArrayRef>>
        })
        .collect();
    let references: Vec<&dyn Fn() -> DfResult<ArrayRef>> =
        closures.iter().map(|c| c.as_ref()).collect();
    lambda
        .evaluate(&references, |captured| {
            Ok(take_arrays(captured, source_rows, None)?)
        })?
        .into_array(rows)
}

// ---------------------------------------------------------------------------------------------
// reduce

/// `reduce(array(T), S, function(S, T, S), function(S, R)) -> R`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Reduce {
    signature: HigherOrderSignature,
}

impl Reduce {
    fn new() -> Self {
        Reduce {
            signature: HigherOrderSignature::exact(
                vec![
                    ValueOrLambda::Value(()),
                    ValueOrLambda::Value(()),
                    ValueOrLambda::Lambda(()),
                    ValueOrLambda::Lambda(()),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl HigherOrderUDFImpl for Reduce {
    fn name(&self) -> &str {
        "reduce"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        match types {
            [array, initial] => Ok(vec![as_list_type("reduce", array)?, initial.clone()]),
            _ => plan_err!("reduce takes an array, an initial state and two functions"),
        }
    }

    fn lambda_parameters(
        &self,
        step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> DfResult<LambdaParametersProgress> {
        let [
            ValueOrLambda::Value(array),
            ValueOrLambda::Value(initial),
            ValueOrLambda::Lambda(merged),
            ValueOrLambda::Lambda(finished),
        ] = fields
        else {
            return plan_err!("reduce takes an array, an initial state and two functions");
        };
        let Some(item) = element(array.data_type()) else {
            return plan_err!("reduce takes an array, got {}", array.data_type());
        };
        // The state has the type the input function returns: first try the initial value's
        // type, then the type the function answered with it. Once both functions' types are
        // known the answer is final.
        let all_known = finished.is_some();
        let state = match merged {
            Some(merged) if step > 0 || all_known => nullable(merged),
            _ => nullable(initial),
        };
        let settled = step > 0
            && merged
                .as_ref()
                .is_some_and(|m| m.data_type() == state.data_type());
        let input = vec![Arc::clone(&state), nullable(item)];
        if all_known || settled || step >= 2 {
            Ok(LambdaParametersProgress::Complete(vec![input, vec![state]]))
        } else {
            Ok(LambdaParametersProgress::Partial(vec![Some(input), None]))
        }
    }

    fn coerce_values_for_lambdas(
        &self,
        fields: &[ValueOrLambda<DataType, DataType>],
    ) -> DfResult<Option<Vec<DataType>>> {
        match fields {
            [
                ValueOrLambda::Value(array),
                ValueOrLambda::Value(_),
                ValueOrLambda::Lambda(merged),
                ValueOrLambda::Lambda(_),
            ] => Ok(Some(vec![array.clone(), merged.clone()])),
            _ => Ok(None),
        }
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        match args.arg_fields.last() {
            Some(ValueOrLambda::Lambda(output)) => Ok(Arc::new(
                output
                    .as_ref()
                    .clone()
                    .with_name("reduce")
                    .with_nullable(true),
            )),
            _ => plan_err!("reduce takes an array, an initial state and two functions"),
        }
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> DfResult<ColumnarValue> {
        let [
            ValueOrLambda::Value(array),
            ValueOrLambda::Value(initial),
            ValueOrLambda::Lambda(input),
            ValueOrLambda::Lambda(output),
        ] = args.args.as_slice()
        else {
            return exec_err!("reduce takes an array, an initial state and two functions");
        };
        let rows = args.number_rows;
        let array = array.to_array(rows)?;
        let Some(list) = array.as_list_opt::<i32>() else {
            return exec_err!("reduce takes an array, got {}", array.data_type());
        };
        let state_type = match args.arg_fields.get(1) {
            Some(ValueOrLambda::Value(field)) => field.data_type().clone(),
            _ => return exec_err!("reduce needs an initial state"),
        };
        let mut state = arrow::compute::cast(&initial.to_array(rows)?, &state_type)?;
        let offsets = list.offsets();
        let length = |row: usize| (offsets[row + 1] - offsets[row]) as usize;
        let longest = (0..rows)
            .filter(|&row| list.is_valid(row))
            .map(length)
            .max()
            .unwrap_or(0);
        for position in 0..longest {
            let active: Vec<u32> = (0..rows)
                .filter(|&row| list.is_valid(row) && length(row) > position)
                .map(|row| row as u32)
                .collect();
            let active = UInt32Array::from(active);
            let elements: UInt32Array = active
                .values()
                .iter()
                .map(|&row| offsets[row as usize] as u32 + position as u32)
                .collect();
            let states = take(&state, &active, None)?;
            let items = take(list.values(), &elements, None)?;
            let merged = run_lambda(input, &[states, items], &active, active.len())?;
            let merged = arrow::compute::cast(&merged, &state_type)?;
            // Scatter the new states back: row r takes merged[k] if it is the k-th active row.
            let mut pick = Vec::with_capacity(rows);
            let mut next = 0;
            for row in 0..rows {
                if next < active.len() && active.value(next) as usize == row {
                    pick.push((1, next));
                    next += 1;
                } else {
                    pick.push((0, row));
                }
            }
            state = arrow::compute::interleave(&[state.as_ref(), merged.as_ref()], &pick)?;
        }
        let all_rows = UInt32Array::from_iter_values(0..rows as u32);
        let result = run_lambda(output, &[state], &all_rows, rows)?;
        // A NULL array reduces to NULL.
        let result = match list.nulls() {
            Some(nulls) => {
                let keep = arrow::array::BooleanArray::new(nulls.inner().clone(), None);
                let null = new_null_array(result.data_type(), rows);
                arrow::compute::kernels::zip::zip(&keep, &result, &null)?
            }
            None => result,
        };
        Ok(ColumnarValue::Array(result))
    }
}

// ---------------------------------------------------------------------------------------------
// zip_with

/// `zip_with(array(T), array(U), function(T, U, R)) -> array(R)`; the shorter array is padded
/// with NULLs.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ZipWith {
    signature: HigherOrderSignature,
}

impl ZipWith {
    fn new() -> Self {
        ZipWith {
            signature: HigherOrderSignature::exact(
                vec![
                    ValueOrLambda::Value(()),
                    ValueOrLambda::Value(()),
                    ValueOrLambda::Lambda(()),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl HigherOrderUDFImpl for ZipWith {
    fn name(&self) -> &str {
        "zip_with"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        types.iter().map(|t| as_list_type("zip_with", t)).collect()
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> DfResult<LambdaParametersProgress> {
        let [
            ValueOrLambda::Value(a),
            ValueOrLambda::Value(b),
            ValueOrLambda::Lambda(_),
        ] = fields
        else {
            return plan_err!("zip_with takes two arrays and a function");
        };
        let (Some(x), Some(y)) = (element(a.data_type()), element(b.data_type())) else {
            return plan_err!("zip_with takes two arrays");
        };
        Ok(LambdaParametersProgress::Complete(vec![vec![
            nullable(x),
            nullable(y),
        ]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        match args.arg_fields.last() {
            Some(ValueOrLambda::Lambda(output)) => {
                let item = Field::new_list_field(output.data_type().clone(), true);
                Ok(Arc::new(Field::new(
                    "zip_with",
                    DataType::List(Arc::new(item)),
                    true,
                )))
            }
            _ => plan_err!("zip_with takes two arrays and a function"),
        }
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> DfResult<ColumnarValue> {
        let [
            ValueOrLambda::Value(a),
            ValueOrLambda::Value(b),
            ValueOrLambda::Lambda(lambda),
        ] = args.args.as_slice()
        else {
            return exec_err!("zip_with takes two arrays and a function");
        };
        let rows = args.number_rows;
        let (a, b) = (a.to_array(rows)?, b.to_array(rows)?);
        let (Some(left), Some(right)) = (a.as_list_opt::<i32>(), b.as_list_opt::<i32>()) else {
            return exec_err!("zip_with takes two arrays");
        };
        let span = |list: &ListArray, row: usize| {
            let offsets = list.offsets();
            (
                offsets[row] as u32,
                (offsets[row + 1] - offsets[row]) as usize,
            )
        };
        let mut lengths = Vec::with_capacity(rows);
        let (mut x_at, mut y_at, mut source) = (Vec::new(), Vec::new(), Vec::new());
        for row in 0..rows {
            if left.is_null(row) || right.is_null(row) {
                lengths.push(0);
                continue;
            }
            let ((x_start, x_len), (y_start, y_len)) = (span(left, row), span(right, row));
            let longest = x_len.max(y_len);
            for i in 0..longest {
                x_at.push((i < x_len).then(|| x_start + i as u32));
                y_at.push((i < y_len).then(|| y_start + i as u32));
                source.push(row as u32);
            }
            lengths.push(longest);
        }
        let xs = take(left.values(), &UInt32Array::from(x_at), None)?;
        let ys = take(right.values(), &UInt32Array::from(y_at), None)?;
        let count = source.len();
        let results = run_lambda(lambda, &[xs, ys], &UInt32Array::from(source), count)?;
        let nulls = arrow::buffer::NullBuffer::union(left.nulls(), right.nulls());
        let DataType::List(item) = args.return_field.data_type() else {
            return exec_err!("zip_with returns an array");
        };
        let zipped = ListArray::try_new(
            Arc::clone(item),
            OffsetBuffer::from_lengths(lengths),
            results,
            nulls,
        )?;
        Ok(ColumnarValue::Array(Arc::new(zipped)))
    }
}

// ---------------------------------------------------------------------------------------------
// transform_keys, transform_values, map_filter

/// What a function over a map's entries makes of the lambda's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MapFunction {
    /// `transform_keys(map(K, V), function(K, V, K2)) -> map(K2, V)`.
    TransformKeys,
    /// `transform_values(map(K, V), function(K, V, V2)) -> map(K, V2)`.
    TransformValues,
    /// `map_filter(map(K, V), function(K, V, boolean)) -> map(K, V)`.
    Filter,
}

/// A function that runs a lambda over every `(key, value)` entry of a map, all entries of a
/// batch at once.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MapLambda {
    function: MapFunction,
    signature: HigherOrderSignature,
}

impl MapLambda {
    fn new(function: MapFunction) -> Self {
        MapLambda {
            function,
            signature: HigherOrderSignature::exact(
                vec![ValueOrLambda::Value(()), ValueOrLambda::Lambda(())],
                Volatility::Immutable,
            ),
        }
    }
}

/// The key and value fields of a map type.
fn map_entry_fields(data_type: &DataType) -> Option<(FieldRef, FieldRef)> {
    let DataType::Map(entries, _) = data_type else {
        return None;
    };
    let DataType::Struct(fields) = entries.data_type() else {
        return None;
    };
    Some((Arc::clone(fields.first()?), Arc::clone(fields.get(1)?)))
}

impl HigherOrderUDFImpl for MapLambda {
    fn name(&self) -> &str {
        match self.function {
            MapFunction::TransformKeys => "transform_keys",
            MapFunction::TransformValues => "transform_values",
            MapFunction::Filter => "map_filter",
        }
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        match types {
            [map @ DataType::Map(..)] => Ok(vec![map.clone()]),
            [other] => plan_err!(
                "Unexpected parameters for function {}: expected a map, got {}",
                self.name(),
                crate::types::trino_type_of(other)
            ),
            _ => plan_err!("{} takes a map and a function", self.name()),
        }
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> DfResult<LambdaParametersProgress> {
        let [ValueOrLambda::Value(map), ValueOrLambda::Lambda(_)] = fields else {
            return plan_err!("{} takes a map and a function", self.name());
        };
        let Some((key, value)) = map_entry_fields(map.data_type()) else {
            return plan_err!("{} takes a map", self.name());
        };
        Ok(LambdaParametersProgress::Complete(vec![vec![
            nullable(&key),
            nullable(&value),
        ]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        let [ValueOrLambda::Value(map), ValueOrLambda::Lambda(output)] = args.arg_fields else {
            return plan_err!("{} takes a map and a function", self.name());
        };
        let Some((key, value)) = map_entry_fields(map.data_type()) else {
            return plan_err!("{} takes a map", self.name());
        };
        let data_type = match self.function {
            MapFunction::TransformKeys => map_type(output, &value),
            MapFunction::TransformValues => map_type(&key, output),
            MapFunction::Filter => {
                if !matches!(output.data_type(), DataType::Boolean | DataType::Null) {
                    return plan_err!(
                        "Unexpected parameters for function map_filter: the function must return a boolean, not {}",
                        crate::types::trino_type_of(output.data_type())
                    );
                }
                map.data_type().clone()
            }
        };
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> DfResult<ColumnarValue> {
        let [ValueOrLambda::Value(map), ValueOrLambda::Lambda(lambda)] = args.args.as_slice()
        else {
            return exec_err!("{} takes a map and a function", self.name());
        };
        let rows = args.number_rows;
        let map = map.to_array(rows)?;
        let Some(map) = map.as_map_opt() else {
            return exec_err!("{} takes a map", self.name());
        };
        let offsets = map.value_offsets();
        let (first, last) = (offsets[0] as usize, offsets[rows] as usize);
        let keys = map.keys().slice(first, last - first);
        let values = map.values().slice(first, last - first);
        let source: UInt32Array = (0..rows)
            .flat_map(|row| {
                let count = (offsets[row + 1] - offsets[row]) as usize;
                std::iter::repeat_n(row as u32, count)
            })
            .collect();
        let count = source.len();
        let results = run_lambda(
            lambda,
            &[Arc::clone(&keys), Arc::clone(&values)],
            &source,
            count,
        )?;
        let DataType::Map(entries_field, _) = args.return_field.data_type() else {
            return exec_err!("{} returns a map", self.name());
        };
        let DataType::Struct(entry_fields) = entries_field.data_type() else {
            return exec_err!("{} returns a map", self.name());
        };
        let lengths: Vec<usize> = (0..rows)
            .map(|row| (offsets[row + 1] - offsets[row]) as usize)
            .collect();
        let (keys, values, lengths) = match self.function {
            MapFunction::TransformValues => (keys, results, lengths),
            MapFunction::TransformKeys => {
                check_new_keys(&results, &lengths)?;
                (results, values, lengths)
            }
            MapFunction::Filter => {
                let keep = results.as_boolean_opt().cloned().unwrap_or_else(|| {
                    arrow::array::BooleanArray::from(vec![false; results.len()])
                });
                // NULL counts as false.
                let keep = if keep.null_count() > 0 {
                    arrow::compute::prep_null_mask_filter(&keep)
                } else {
                    keep
                };
                let mut kept = Vec::with_capacity(rows);
                let mut at = 0;
                for length in &lengths {
                    kept.push((at..at + length).filter(|&i| keep.value(i)).count());
                    at += length;
                }
                let keys = arrow::compute::filter(&keys, &keep)?;
                let values = arrow::compute::filter(&values, &keep)?;
                (keys, values, kept)
            }
        };
        let entries =
            arrow::array::StructArray::try_new(entry_fields.clone(), vec![keys, values], None)?;
        let result = arrow::array::MapArray::try_new(
            Arc::clone(entries_field),
            OffsetBuffer::from_lengths(lengths),
            entries,
            map.nulls().cloned(),
            false,
        )?;
        Ok(ColumnarValue::Array(Arc::new(result)))
    }
}

/// `transform_keys` may not make a NULL key or the same key twice in one map.
fn check_new_keys(keys: &ArrayRef, lengths: &[usize]) -> DfResult<()> {
    if keys.logical_null_count() > 0 {
        return Err(super::invalid_argument("map key cannot be null".into()));
    }
    let converter =
        arrow::row::RowConverter::new(vec![arrow::row::SortField::new(keys.data_type().clone())])?;
    let rows = converter.convert_columns(&[Arc::clone(keys)])?;
    let mut at = 0;
    for &length in lengths {
        let mut seen = std::collections::HashSet::with_capacity(length);
        for i in at..at + length {
            if !seen.insert(rows.row(i)) {
                let key = arrow::util::display::array_value_to_string(keys, i)?;
                return Err(super::invalid_argument(format!(
                    "Duplicate keys ({key}) are not allowed"
                )));
            }
        }
        at += length;
    }
    Ok(())
}
