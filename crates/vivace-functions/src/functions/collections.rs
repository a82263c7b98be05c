//! Trino's array and map functions where DataFusion's differ: `cardinality` (top-level
//! elements, bigint, maps too), `element_at` (arrays and maps under one name) and
//! `map_from_entries`, which also builds the map of `map_agg` (see `function_rewrite.rs`).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, GenericListArray, Int64Array, MapArray, OffsetSizeTrait, Scalar,
    StructArray, UInt64Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::kernels::cmp::eq;
use arrow::datatypes::{ArrowNativeType, DataType, Field, FieldRef, Fields, Int64Type};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result as DfResult, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::invalid_argument;

pub(crate) use vivace_sql::internal_functions::{HISTOGRAM, MAP_AGG_ENTRIES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    Cardinality,
    ElementAt,
    MapFromEntries,
    MapAggEntries,
    Histogram,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CollectionUdf {
    function: Function,
    signature: Signature,
}

/// The array and map functions.
pub(super) fn collection_functions() -> Vec<Arc<ScalarUDF>> {
    [
        Function::Cardinality,
        Function::ElementAt,
        Function::MapFromEntries,
        Function::MapAggEntries,
        Function::Histogram,
    ]
    .into_iter()
    .map(|function| {
        Arc::new(ScalarUDF::from(CollectionUdf {
            function,
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

impl CollectionUdf {
    fn mismatch<T>(&self, types: &[DataType]) -> DfResult<T> {
        let expected = match self.function {
            Function::Cardinality => "cardinality(array(E)), cardinality(map(K,V))",
            Function::ElementAt => "element_at(array(E), bigint), element_at(map(K,V), K)",
            Function::MapFromEntries | Function::MapAggEntries => {
                "map_from_entries(array(row(K,V)))"
            }
            Function::Histogram => "histogram(T)",
        };
        super::unexpected_parameters(self.name(), types, expected)
    }
}

/// The key and value fields of a list of two-field rows.
fn entry_fields(data_type: &DataType) -> Option<(FieldRef, FieldRef)> {
    let (DataType::List(item) | DataType::LargeList(item)) = data_type else {
        return None;
    };
    match item.data_type() {
        DataType::Struct(fields) if fields.len() == 2 => {
            Some((Arc::clone(&fields[0]), Arc::clone(&fields[1])))
        }
        _ => None,
    }
}

/// The map type of `key` and `value` fields, keeping their Trino type tags.
pub(super) fn map_type(key: &Field, value: &Field) -> DataType {
    let entries = Fields::from(vec![
        key.clone().with_name("key").with_nullable(false),
        value.clone().with_name("value").with_nullable(true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

impl ScalarUDFImpl for CollectionUdf {
    fn name(&self) -> &str {
        match self.function {
            Function::Cardinality => "cardinality",
            Function::ElementAt => "element_at",
            Function::MapFromEntries => "map_from_entries",
            Function::MapAggEntries => MAP_AGG_ENTRIES,
            Function::Histogram => HISTOGRAM,
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        let coerced = match (self.function, types) {
            (Function::Cardinality, [collection]) => match collection {
                DataType::List(_) | DataType::LargeList(_) | DataType::Map(..) => {
                    Some(vec![collection.clone()])
                }
                DataType::FixedSizeList(item, _) => Some(vec![DataType::List(Arc::clone(item))]),
                _ => None,
            },
            (Function::ElementAt, [collection, key]) => match collection {
                DataType::List(_) | DataType::LargeList(_) if key.is_integer() || key.is_null() => {
                    Some(vec![collection.clone(), DataType::Int64])
                }
                DataType::FixedSizeList(item, _) if key.is_integer() || key.is_null() => {
                    Some(vec![DataType::List(Arc::clone(item)), DataType::Int64])
                }
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(fields) if fields.len() == 2 => {
                        Some(vec![collection.clone(), fields[0].data_type().clone()])
                    }
                    _ => None,
                },
                _ => None,
            },
            (Function::MapFromEntries | Function::MapAggEntries, [entries]) => {
                entry_fields(entries).map(|_| vec![entries.clone()])
            }
            (Function::Histogram, [values @ DataType::List(_)]) => Some(vec![values.clone()]),
            _ => None,
        };
        match coerced {
            Some(coerced) => Ok(coerced),
            None => self.mismatch(types),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        plan_err!("{} is typed by its arguments", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        let Some(first) = args.arg_fields.first() else {
            return self.mismatch(&[]);
        };
        let field = match self.function {
            Function::Cardinality => Field::new(self.name(), DataType::Int64, true),
            Function::ElementAt => match first.data_type() {
                DataType::List(item) | DataType::LargeList(item) => item
                    .as_ref()
                    .clone()
                    .with_name(self.name())
                    .with_nullable(true),
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(fields) if fields.len() == 2 => fields[1]
                        .as_ref()
                        .clone()
                        .with_name(self.name())
                        .with_nullable(true),
                    _ => return self.mismatch(&[first.data_type().clone()]),
                },
                other => return self.mismatch(std::slice::from_ref(other)),
            },
            Function::MapFromEntries | Function::MapAggEntries => {
                let Some((key, value)) = entry_fields(first.data_type()) else {
                    return self.mismatch(&[first.data_type().clone()]);
                };
                Field::new(self.name(), map_type(&key, &value), true)
            }
            Function::Histogram => {
                let DataType::List(item) = first.data_type() else {
                    return self.mismatch(&[first.data_type().clone()]);
                };
                let count = Field::new("value", DataType::Int64, true);
                Field::new(self.name(), map_type(item, &count), true)
            }
        };
        Ok(Arc::new(field))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let (arrays, _, all_scalar) = super::argument_arrays(&args)?;
        let result = match (self.function, arrays.as_slice()) {
            (Function::Cardinality, [collection]) => cardinality(collection)?,
            (Function::ElementAt, [collection, key]) => match collection.data_type() {
                DataType::List(_) => array_element(collection.as_list::<i32>(), key)?,
                DataType::LargeList(_) => array_element(collection.as_list::<i64>(), key)?,
                DataType::Map(..) => map_element(collection.as_map(), key)?,
                other => return exec_err!("element_at does not take {other}"),
            },
            (Function::MapFromEntries, [entries]) => {
                map_from_entries(entries, args.return_field.data_type(), false)?
            }
            (Function::MapAggEntries, [entries]) => {
                map_from_entries(entries, args.return_field.data_type(), true)?
            }
            (Function::Histogram, [values]) => histogram(values, args.return_field.data_type())?,
            _ => return exec_err!("{} got unexpected arguments", self.name()),
        };
        super::columnar(result, all_scalar)
    }
}

/// Elements per row: top-level only, as Trino counts them.
fn cardinality(collection: &ArrayRef) -> DfResult<ArrayRef> {
    let lengths: Int64Array = match collection.data_type() {
        DataType::List(_) => lengths(collection.as_list::<i32>().offsets(), collection.nulls()),
        DataType::LargeList(_) => {
            lengths(collection.as_list::<i64>().offsets(), collection.nulls())
        }
        DataType::Map(..) => lengths(collection.as_map().offsets(), collection.nulls()),
        other => return exec_err!("cardinality does not take {other}"),
    };
    Ok(Arc::new(lengths))
}

fn lengths<O: OffsetSizeTrait>(
    offsets: &OffsetBuffer<O>,
    nulls: Option<&NullBuffer>,
) -> Int64Array {
    offsets
        .windows(2)
        .enumerate()
        .map(|(row, pair)| {
            let valid = nulls.is_none_or(|n| n.is_valid(row));
            valid.then(|| (pair[1] - pair[0]).as_usize() as i64)
        })
        .collect()
}

/// `element_at(array, index)`: 1-based, negative from the end, NULL past either end; 0 is an
/// error, as in Trino.
fn array_element<O: OffsetSizeTrait>(
    list: &GenericListArray<O>,
    index: &ArrayRef,
) -> DfResult<ArrayRef> {
    let index = arrow::compute::cast(index, &DataType::Int64)?;
    let index = index.as_primitive::<Int64Type>();
    let offsets = list.offsets();
    let mut positions = Vec::with_capacity(list.len());
    for row in 0..list.len() {
        if list.is_null(row) || index.is_null(row) {
            positions.push(None);
            continue;
        }
        let wanted = index.value(row);
        if wanted == 0 {
            return Err(invalid_argument("SQL array indices start at 1".to_string()));
        }
        let start = offsets[row].as_usize() as i64;
        let length = offsets[row + 1].as_usize() as i64 - start;
        let at = if wanted > 0 {
            wanted - 1
        } else {
            length + wanted
        };
        positions.push(((0..length).contains(&at)).then(|| (start + at) as u64));
    }
    Ok(arrow::compute::take(
        list.values(),
        &UInt64Array::from(positions),
        None,
    )?)
}

/// `element_at(map, key)`: the key's value, or NULL when the map lacks it.
fn map_element(map: &MapArray, keys: &ArrayRef) -> DfResult<ArrayRef> {
    let offsets = map.offsets();
    let mut positions = Vec::with_capacity(map.len());
    for row in 0..map.len() {
        if map.is_null(row) || keys.is_null(row) {
            positions.push(None);
            continue;
        }
        let start = offsets[row].as_usize();
        let length = offsets[row + 1].as_usize() - start;
        let entries = map.keys().slice(start, length);
        let matches = eq(&entries, &Scalar::new(keys.slice(row, 1)))?;
        let found = matches.iter().position(|m| m == Some(true));
        positions.push(found.map(|at| (start + at) as u64));
    }
    Ok(arrow::compute::take(
        map.values(),
        &UInt64Array::from(positions),
        None,
    )?)
}

/// Builds a map from a list of (key, value) rows. `first_wins` keeps the first value of a
/// repeated key and skips NULL keys (`map_agg`); otherwise either is an error, as in Trino's
/// `map_from_entries`.
/// Counts each list's distinct non-NULL values into a map, in the order they first appear.
fn histogram(values: &ArrayRef, map_type: &DataType) -> DfResult<ArrayRef> {
    let list = values.as_list::<i32>();
    let items = list.values();
    let converter = RowConverter::new(vec![SortField::new(items.data_type().clone())])?;
    let rows = converter.convert_columns(&[Arc::clone(items)])?;
    let mut first_seen: Vec<u64> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    let mut offsets: Vec<i32> = vec![0];
    for row in 0..list.len() {
        if list.is_valid(row) {
            let mut index = std::collections::HashMap::new();
            let (start, end) = (
                list.offsets()[row].as_usize(),
                list.offsets()[row + 1].as_usize(),
            );
            for at in start..end {
                if items.is_null(at) {
                    continue;
                }
                match index.entry(rows.row(at)) {
                    std::collections::hash_map::Entry::Occupied(slot) => counts[*slot.get()] += 1,
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(counts.len());
                        first_seen.push(at as u64);
                        counts.push(1);
                    }
                }
            }
        }
        let Ok(end) = i32::try_from(counts.len()) else {
            return exec_err!("histogram too large");
        };
        offsets.push(end);
    }
    let DataType::Map(entries_field, _) = map_type else {
        return exec_err!("histogram returns a map");
    };
    let DataType::Struct(fields) = entries_field.data_type() else {
        return exec_err!("map entries are rows");
    };
    let keys = arrow::compute::take(items, &UInt64Array::from(first_seen), None)?;
    let counts: ArrayRef = Arc::new(Int64Array::from(counts));
    let entries = StructArray::try_new(fields.clone(), vec![keys, counts], None)?;
    Ok(Arc::new(MapArray::try_new(
        Arc::clone(entries_field),
        OffsetBuffer::new(offsets.into()),
        entries,
        list.nulls().cloned(),
        false,
    )?))
}

fn map_from_entries(
    entries: &ArrayRef,
    map_type: &DataType,
    first_wins: bool,
) -> DfResult<ArrayRef> {
    let (offsets, values, nulls): (Vec<usize>, ArrayRef, Option<NullBuffer>) =
        match entries.data_type() {
            DataType::List(_) => {
                let list = entries.as_list::<i32>();
                let offsets = list.offsets().iter().map(|o| o.as_usize()).collect();
                (offsets, Arc::clone(list.values()), list.nulls().cloned())
            }
            DataType::LargeList(_) => {
                let list = entries.as_list::<i64>();
                let offsets = list.offsets().iter().map(|o| o.as_usize()).collect();
                (offsets, Arc::clone(list.values()), list.nulls().cloned())
            }
            other => return exec_err!("map_from_entries does not take {other}"),
        };
    let pairs = values.as_struct();
    let (keys, vals) = (pairs.column(0), pairs.column(1));
    let converter = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
    let rows = converter.convert_columns(&[Arc::clone(keys)])?;
    let mut kept: Vec<u64> = Vec::new();
    let mut new_offsets: Vec<i32> = vec![0];
    for row in 0..offsets.len().saturating_sub(1) {
        let valid = nulls.as_ref().is_none_or(|n| n.is_valid(row));
        if valid {
            let mut seen = HashSet::new();
            for at in offsets[row]..offsets[row + 1] {
                if pairs.is_null(at) {
                    return Err(invalid_argument("map entry cannot be null".to_string()));
                }
                if keys.is_null(at) {
                    if first_wins {
                        continue;
                    }
                    return Err(invalid_argument("map key cannot be null".to_string()));
                }
                if !seen.insert(rows.row(at)) {
                    if first_wins {
                        continue;
                    }
                    let key = arrow::util::display::array_value_to_string(keys, at)?;
                    return Err(invalid_argument(format!(
                        "Duplicate map keys ({key}) are not allowed"
                    )));
                }
                kept.push(at as u64);
            }
        }
        let Ok(end) = i32::try_from(kept.len()) else {
            return exec_err!("map too large");
        };
        new_offsets.push(end);
    }
    let take = UInt64Array::from(kept);
    let DataType::Map(entries_field, _) = map_type else {
        return exec_err!("map_from_entries returns a map");
    };
    let DataType::Struct(fields) = entries_field.data_type() else {
        return exec_err!("map entries are rows");
    };
    let taken_keys = arrow::compute::take(keys, &take, None)?;
    let taken_values = arrow::compute::take(vals, &take, None)?;
    let struct_array = StructArray::try_new(fields.clone(), vec![taken_keys, taken_values], None)?;
    let map = MapArray::try_new(
        Arc::clone(entries_field),
        OffsetBuffer::new(new_offsets.into()),
        struct_array,
        nulls,
        false,
    )?;
    Ok(Arc::new(map))
}
