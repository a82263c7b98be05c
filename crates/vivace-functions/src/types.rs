//! How Arrow types appear as Trino types.

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use vivace_protocol::TrinoType;
use vivace_protocol::types::RowField;
use vivace_spi::TRINO_TYPE_METADATA_KEY;

/// The Trino type of an Arrow field: the `trino.type` metadata when present and valid, otherwise
/// the natural mapping of its Arrow type.
pub fn trino_type_of_field(field: &Field) -> TrinoType {
    if let Some(tagged) = field.metadata().get(TRINO_TYPE_METADATA_KEY)
        && let Ok(parsed) = TrinoType::parse(tagged)
    {
        return parsed;
    }
    trino_type_of(field.data_type())
}

/// The natural Trino type of an Arrow type.
#[recursive::recursive]
pub fn trino_type_of(data_type: &DataType) -> TrinoType {
    match data_type {
        DataType::Null => TrinoType::Unknown,
        DataType::Boolean => TrinoType::Boolean,
        DataType::Int8 => TrinoType::Tinyint,
        DataType::Int16 | DataType::UInt8 => TrinoType::Smallint,
        DataType::Int32 | DataType::UInt16 => TrinoType::Integer,
        DataType::Int64 | DataType::UInt32 => TrinoType::Bigint,
        DataType::UInt64 => TrinoType::Decimal {
            precision: 20,
            scale: 0,
        },
        DataType::Float16 | DataType::Float32 => TrinoType::Real,
        DataType::Float64 => TrinoType::Double,
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => TrinoType::Decimal {
            precision: u32::from(*p).min(38),
            scale: u32::try_from(*s).unwrap_or(0),
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => TrinoType::VARCHAR,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => TrinoType::Varbinary,
        DataType::Date32 | DataType::Date64 => TrinoType::Date,
        DataType::Time32(unit) | DataType::Time64(unit) => TrinoType::Time {
            precision: unit_precision(*unit),
            with_time_zone: false,
        },
        DataType::Timestamp(unit, tz) => TrinoType::Timestamp {
            precision: unit_precision(*unit),
            with_time_zone: tz.is_some(),
        },
        DataType::Interval(IntervalUnit::YearMonth) => TrinoType::IntervalYearToMonth,
        DataType::Interval(_) | DataType::Duration(_) => TrinoType::IntervalDayToSecond,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => TrinoType::Array(Box::new(trino_type_of_field(f))),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => TrinoType::Map(
                Box::new(trino_type_of_field(&fields[0])),
                Box::new(trino_type_of_field(&fields[1])),
            ),
            _ => TrinoType::Unknown,
        },
        DataType::Struct(fields) => {
            // DataFusion names the fields of `struct(...)`/`ROW(...)` c0, c1, ...: Trino's
            // anonymous row fields.
            let anonymous = fields
                .iter()
                .enumerate()
                .all(|(i, f)| *f.name() == format!("c{i}"));
            TrinoType::Row(
                fields
                    .iter()
                    .map(|f| RowField {
                        name: (!anonymous).then(|| f.name().clone()),
                        field_type: trino_type_of_field(f),
                    })
                    .collect(),
            )
        }
        DataType::Dictionary(_, value) => trino_type_of(value),
        DataType::RunEndEncoded(_, values) => trino_type_of_field(values),
        DataType::Union(_, _) => TrinoType::Unknown,
    }
}

/// Fraction digits of a time unit.
pub fn unit_precision(unit: TimeUnit) -> u32 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// The Arrow type that stores values of a Trino type. Types Arrow has no notion of (`json`,
/// `uuid`, `ipaddress`, `time with time zone`) are stored as text and tagged with
/// [`TRINO_TYPE_METADATA_KEY`]; `zone` is the zone of `timestamp with time zone` values.
pub fn arrow_type_of(trino: &TrinoType, zone: &str) -> DataType {
    use std::sync::Arc;
    let unit = |precision: u32| match precision {
        0..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    };
    match trino {
        TrinoType::Boolean => DataType::Boolean,
        TrinoType::Tinyint => DataType::Int8,
        TrinoType::Smallint => DataType::Int16,
        TrinoType::Integer => DataType::Int32,
        TrinoType::Bigint => DataType::Int64,
        TrinoType::Real => DataType::Float32,
        TrinoType::Double => DataType::Float64,
        TrinoType::Decimal { precision, scale } => {
            DataType::Decimal128(*precision as u8, *scale as i8)
        }
        TrinoType::Varchar(_)
        | TrinoType::Char(_)
        | TrinoType::Json
        | TrinoType::Uuid
        | TrinoType::IpAddress
        | TrinoType::Time {
            with_time_zone: true,
            ..
        } => DataType::Utf8,
        TrinoType::Varbinary => DataType::Binary,
        TrinoType::Date => DataType::Date32,
        TrinoType::Time { precision, .. } => match unit(*precision) {
            TimeUnit::Millisecond => DataType::Time32(TimeUnit::Millisecond),
            other => DataType::Time64(other),
        },
        TrinoType::Timestamp {
            precision,
            with_time_zone,
        } => DataType::Timestamp(unit(*precision), with_time_zone.then(|| Arc::from(zone))),
        TrinoType::IntervalDayToSecond | TrinoType::IntervalYearToMonth => {
            DataType::Interval(IntervalUnit::MonthDayNano)
        }
        TrinoType::Array(element) => DataType::List(Arc::new(tagged_field("item", element, zone))),
        TrinoType::Map(key, value) => DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(
                    vec![
                        tagged_field("key", key, zone).with_nullable(false),
                        tagged_field("value", value, zone),
                    ]
                    .into(),
                ),
                false,
            )),
            false,
        ),
        TrinoType::Row(fields) => DataType::Struct(
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let name = f.name.clone().unwrap_or_else(|| format!("c{i}"));
                    tagged_field(&name, &f.field_type, zone)
                })
                .collect::<Vec<_>>()
                .into(),
        ),
        TrinoType::Unknown => DataType::Null,
    }
}

/// A nullable field of a Trino type, tagged when Arrow alone would not say the type.
pub fn tagged_field(name: &str, trino: &TrinoType, zone: &str) -> Field {
    field_of(name, arrow_type_of(trino, zone), trino)
}

/// A nullable field of `data_type` holding `trino` values, with a [`TRINO_TYPE_METADATA_KEY`]
/// tag when `data_type` alone would read as another Trino type.
fn field_of(name: &str, data_type: DataType, trino: &TrinoType) -> Field {
    let field = Field::new(name, data_type.clone(), true);
    if trino_type_of(&data_type) == *trino {
        field
    } else {
        field.with_metadata(std::collections::HashMap::from([(
            TRINO_TYPE_METADATA_KEY.to_string(),
            trino.to_string(),
        )]))
    }
}

/// A table column of a Trino type: nested fields carry no metadata, so rows computed by any
/// query fit the column (Arrow compares nested field metadata), and the whole type is in one
/// top-level tag when Arrow alone would not say it.
pub fn column_field(name: &str, trino: &TrinoType, zone: &str) -> Field {
    field_of(name, untagged(&arrow_type_of(trino, zone)), trino)
}

/// `data_type` with the metadata of its nested fields removed.
#[recursive::recursive]
fn untagged(data_type: &DataType) -> DataType {
    use std::sync::Arc;
    let plain = |f: &Field| {
        Arc::new(Field::new(
            f.name(),
            untagged(f.data_type()),
            f.is_nullable(),
        ))
    };
    match data_type {
        DataType::List(item) => DataType::List(plain(item)),
        DataType::LargeList(item) => DataType::LargeList(plain(item)),
        DataType::Map(entries, sorted) => DataType::Map(plain(entries), *sorted),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| plain(f)).collect::<Vec<_>>().into())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn deep_arrow_types_grow_the_stack_instead_of_overflowing() {
        let depth = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let mut deep = DataType::Int64;
                for _ in 0..50_000 {
                    deep = DataType::new_list(deep, true);
                }
                let trino = trino_type_of(&deep);
                let plain = untagged(&deep);
                let mut depth = 0;
                let mut at = &trino;
                while let TrinoType::Array(element) = at {
                    depth += 1;
                    at = element;
                }
                // Dropping is recursive too and not ours to guard: leak the test values.
                std::mem::forget((deep, trino, plain));
                depth
            })
            .expect("spawn")
            .join()
            .expect("no overflow");
        assert_eq!(depth, 50_000);
    }

    #[test]
    fn arrow_types_map_to_trino_names() {
        let cases = [
            (DataType::Int32, "integer"),
            (DataType::Float64, "double"),
            (DataType::Decimal128(10, 2), "decimal(10, 2)"),
            (DataType::Utf8View, "varchar"),
            (
                DataType::Timestamp(TimeUnit::Microsecond, None),
                "timestamp(6)",
            ),
            (
                DataType::Timestamp(TimeUnit::Millisecond, Some(Arc::from("UTC"))),
                "timestamp(3) with time zone",
            ),
            (
                DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
                "array(bigint)",
            ),
        ];
        for (data_type, name) in cases {
            assert_eq!(trino_type_of(&data_type).to_string(), name);
        }
        let tagged = Field::new("c", DataType::Utf8, true).with_metadata(HashMap::from([(
            TRINO_TYPE_METADATA_KEY.to_string(),
            "varchar(25)".to_string(),
        )]));
        assert_eq!(trino_type_of_field(&tagged).to_string(), "varchar(25)");
    }
}
