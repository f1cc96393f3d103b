//! Parquet files for time series and plain tables (the `parquet` and `arrow` crates).
//!
//! A series file is long-format, one row per (step, entity): `time_s` (u32, seconds since midnight of day 0),
//! the entity id (`feature_id` u64, `link_id` u32, or `cell_id` u64 with `cell_x`/`cell_y` of the cell's
//! lower-left corner in the scene CRS), then one nullable float column per quantity (null where the table holds
//! `NaN`). Rows are sorted by time, then id, one row group per step, so a reader can take one step without the
//! rest. File metadata ties it to its scene (`citytwin.scene_fingerprint`) and names the entity kind and each
//! column's unit. Pandas, DuckDB and GDAL read these files as they are.
//!
//! Writing is deterministic: the same table gives the same bytes (no timestamps, fixed row groups).

use super::{EntityKind, SeriesTable};
use crate::time::SimTime;
use arrow_array::{
    Array, ArrayRef, Float32Array, Float64Array, RecordBatch, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Metadata key: the fingerprint of the scene the file belongs to.
pub const META_FINGERPRINT: &str = "citytwin.scene_fingerprint";
/// Metadata key: the entity kind of a series file ([`EntityKind::encode`]).
pub const META_ENTITY: &str = "citytwin.entity";
/// Metadata key: JSON object of column name → unit.
pub const META_UNITS: &str = "citytwin.units";
/// Metadata key: the scene origin `x,y` (cell coordinates are written in the scene CRS).
pub const META_ORIGIN: &str = "citytwin.origin";

/// Errors reading or writing a table file.
#[derive(Debug, Error)]
pub enum TableError {
    /// The file could not be created, opened or read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Parquet or Arrow refused the data (a corrupt or truncated file when reading).
    #[error("{path}: not a readable Parquet table ({detail})")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The file is Parquet but not the table expected.
    #[error("{path}: {detail}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is missing or inconsistent.
        detail: String,
    },
}

fn pq(path: &Path) -> impl Fn(String) -> TableError + '_ {
    move |detail| TableError::Parquet {
        path: path.to_owned(),
        detail,
    }
}

fn shape(path: &Path, detail: impl Into<String>) -> TableError {
    TableError::Shape {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

fn properties(meta: &BTreeMap<String, String>) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("citytwin {}", env!("CARGO_PKG_VERSION")))
        .set_max_row_group_row_count(None)
        .set_key_value_metadata(Some(
            meta.iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                .collect(),
        ))
        .build()
}

/// Writes `batches` (one row group each) with `meta` to `path`.
fn write_batches(
    path: &Path,
    schema: Arc<Schema>,
    batches: impl IntoIterator<Item = Result<RecordBatch, String>>,
    meta: &BTreeMap<String, String>,
) -> Result<(), TableError> {
    let file = std::fs::File::create(path).map_err(|source| TableError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut w = ArrowWriter::try_new(
        std::io::BufWriter::new(file),
        schema,
        Some(properties(meta)),
    )
    .map_err(|e| pq(path)(e.to_string()))?;
    for b in batches {
        let b = b.map_err(pq(path))?;
        w.write(&b).map_err(|e| pq(path)(e.to_string()))?;
        w.flush().map_err(|e| pq(path)(e.to_string()))?;
    }
    w.close().map_err(|e| pq(path)(e.to_string()))?;
    Ok(())
}

/// Writes a series table to `path`, tied to the scene with `fingerprint`. `origin` is the scene origin (cell
/// coordinates are written in the scene CRS).
///
/// # Errors
/// [`TableError::Io`] when the file cannot be written.
pub fn write_series(
    path: &Path,
    table: &SeriesTable,
    fingerprint: &str,
    origin: [f64; 2],
) -> Result<(), TableError> {
    let id_name = table.entity.id_column();
    let id_type = match table.entity {
        EntityKind::Link { .. } => DataType::UInt32,
        _ => DataType::UInt64,
    };
    let mut fields = vec![
        Field::new("time_s", DataType::UInt32, false),
        Field::new(id_name, id_type, false),
    ];
    if let EntityKind::Cell { .. } = table.entity {
        fields.push(Field::new("cell_x", DataType::Float64, false));
        fields.push(Field::new("cell_y", DataType::Float64, false));
    }
    for c in &table.columns {
        fields.push(Field::new(&c.name, DataType::Float32, true));
    }
    let schema = Arc::new(Schema::new(fields));
    let units: serde_json::Map<String, serde_json::Value> = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.unit.clone().into()))
        .collect();
    let meta: BTreeMap<String, String> = [
        (META_FINGERPRINT.to_owned(), fingerprint.to_owned()),
        (META_ENTITY.to_owned(), table.entity.encode()),
        (
            META_UNITS.to_owned(),
            serde_json::Value::Object(units).to_string(),
        ),
        (
            META_ORIGIN.to_owned(),
            format!("{},{}", origin[0], origin[1]),
        ),
    ]
    .into();
    let n = table.ids.len();
    let ids: ArrayRef = match table.entity {
        EntityKind::Link { .. } => Arc::new(UInt32Array::from_iter_values(
            table.ids.iter().map(|&i| i as u32),
        )),
        _ => Arc::new(UInt64Array::from(table.ids.clone())),
    };
    let cells: Option<(ArrayRef, ArrayRef)> = match table.entity {
        EntityKind::Cell { size_m } => {
            let xy: Vec<(f64, f64)> = table
                .ids
                .iter()
                .map(|&id| {
                    let (c, r) = super::cell_col_row(id);
                    (
                        origin[0] + f64::from(c) * size_m,
                        origin[1] + f64::from(r) * size_m,
                    )
                })
                .collect();
            Some((
                Arc::new(Float64Array::from_iter_values(xy.iter().map(|p| p.0))),
                Arc::new(Float64Array::from_iter_values(xy.iter().map(|p| p.1))),
            ))
        }
        _ => None,
    };
    let batches = table.times.iter().enumerate().map(|(step, t)| {
        let mut cols: Vec<ArrayRef> = vec![Arc::new(UInt32Array::from(vec![t.0; n])), ids.clone()];
        if let Some((x, y)) = &cells {
            cols.push(x.clone());
            cols.push(y.clone());
        }
        for c in &table.columns {
            let v = table.step_values(c, step);
            cols.push(Arc::new(Float32Array::from_iter(
                v.iter().map(|x| x.is_finite().then_some(*x)),
            )));
        }
        RecordBatch::try_new(schema.clone(), cols).map_err(|e| e.to_string())
    });
    write_batches(path, schema.clone(), batches, &meta)
}

/// Reads the batches and key-value metadata of a Parquet file.
fn read_batches(path: &Path) -> Result<(Vec<RecordBatch>, BTreeMap<String, String>), TableError> {
    let file = std::fs::File::open(path).map_err(|source| TableError::Io {
        path: path.to_owned(),
        source,
    })?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| pq(path)(e.to_string()))?;
    let meta: BTreeMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .filter_map(|k| k.value.clone().map(|v| (k.key.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    let reader = builder
        .with_batch_size(1 << 20)
        .build()
        .map_err(|e| pq(path)(e.to_string()))?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pq(path)(e.to_string()))?;
    Ok((batches, meta))
}

/// Reads a series table and the fingerprint of the scene it belongs to.
///
/// # Errors
/// [`TableError`] for a missing, corrupt or malformed file (rows not a full step × entity grid, ids that change
/// between steps).
pub fn read_series(path: &Path) -> Result<(SeriesTable, String), TableError> {
    let (batches, meta) = read_batches(path)?;
    let fingerprint = meta.get(META_FINGERPRINT).cloned().ok_or_else(|| {
        shape(
            path,
            "no citytwin scene fingerprint: not a citytwin series file",
        )
    })?;
    let entity = meta
        .get(META_ENTITY)
        .and_then(|e| EntityKind::decode(e))
        .ok_or_else(|| shape(path, "no or unknown citytwin entity kind"))?;
    let units: BTreeMap<String, String> = meta
        .get(META_UNITS)
        .and_then(|u| serde_json::from_str(u).ok())
        .unwrap_or_default();
    let Some(first) = batches.first() else {
        return Ok((SeriesTable::new(entity, vec![], vec![]), fingerprint));
    };
    let schema = first.schema();
    let value_cols: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| {
            !matches!(
                n.as_str(),
                "time_s" | "feature_id" | "link_id" | "cell_id" | "cell_x" | "cell_y"
            )
        })
        .collect();
    let mut times: Vec<SimTime> = Vec::new();
    let mut ids: Option<Vec<u64>> = None;
    let mut values: Vec<Vec<f32>> = vec![Vec::new(); value_cols.len()];
    let id_name = entity.id_column();
    for b in &batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .ok_or_else(|| shape(path, format!("no column `{name}`")))
        };
        let t = col("time_s")?
            .as_any()
            .downcast_ref::<UInt32Array>()
            .ok_or_else(|| shape(path, "`time_s` is not u32"))?
            .clone();
        let idc = col(id_name)?;
        let batch_ids: Vec<u64> = if let Some(a) = idc.as_any().downcast_ref::<UInt32Array>() {
            a.values().iter().map(|&v| u64::from(v)).collect()
        } else if let Some(a) = idc.as_any().downcast_ref::<UInt64Array>() {
            a.values().to_vec()
        } else {
            return Err(shape(
                path,
                format!("`{id_name}` is not an unsigned integer"),
            ));
        };
        let cols: Vec<Float32Array> = value_cols
            .iter()
            .map(|n| {
                col(n)?
                    .as_any()
                    .downcast_ref::<Float32Array>()
                    .cloned()
                    .ok_or_else(|| shape(path, format!("`{n}` is not f32")))
            })
            .collect::<Result<_, _>>()?;
        // Rows come in whole steps; a batch may hold several.
        let mut row = 0;
        while row < b.num_rows() {
            let step_t = t.value(row);
            let end = (row..b.num_rows())
                .find(|&r| t.value(r) != step_t)
                .unwrap_or(b.num_rows());
            let step_ids = &batch_ids[row..end];
            match &ids {
                None => ids = Some(step_ids.to_vec()),
                Some(known) if known.as_slice() == step_ids => {}
                Some(_) => {
                    return Err(shape(
                        path,
                        format!("the entities at time {step_t} s differ from the first step's"),
                    ))
                }
            }
            if times.last().is_some_and(|l| l.0 >= step_t) {
                return Err(shape(path, format!("time {step_t} s out of order")));
            }
            times.push(SimTime(step_t));
            for (v, c) in values.iter_mut().zip(&cols) {
                v.extend((row..end).map(|r| if c.is_null(r) { f32::NAN } else { c.value(r) }));
            }
            row = end;
        }
    }
    let ids = ids.unwrap_or_default();
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(shape(path, "entity ids are not sorted"));
    }
    let mut table = SeriesTable::new(entity, times, ids);
    for (name, v) in value_cols.iter().zip(values) {
        let unit = units.get(name).cloned().unwrap_or_default();
        table.push_column(name, &unit, v);
    }
    Ok((table, fingerprint))
}

/// Writes a plain table (named Arrow columns of equal length) with metadata `meta` as one row group.
///
/// # Errors
/// [`TableError`] when the columns disagree in length or the file cannot be written.
pub fn write_table(
    path: &Path,
    columns: Vec<(&str, ArrayRef)>,
    meta: &BTreeMap<String, String>,
) -> Result<(), TableError> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), a.null_count() > 0))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
        .map_err(|e| e.to_string());
    write_batches(path, schema, [batch], meta)
}

/// Reads a plain table: its rows as one batch, and its key-value metadata.
///
/// # Errors
/// [`TableError`] for a missing or unreadable file.
pub fn read_table(path: &Path) -> Result<(RecordBatch, BTreeMap<String, String>), TableError> {
    let (batches, meta) = read_batches(path)?;
    let batch = match batches.len() {
        0 => return Err(shape(path, "the table is empty")),
        1 => batches
            .into_iter()
            .next()
            .ok_or_else(|| shape(path, "empty"))?,
        _ => arrow_select::concat::concat_batches(&batches[0].schema(), &batches)
            .map_err(|e| pq(path)(e.to_string()))?,
    };
    Ok((batch, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_round_trip_is_exact_and_deterministic() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut t = SeriesTable::new(
            EntityKind::Link {
                layer: "roads".into(),
            },
            vec![SimTime(0), SimTime(900)],
            vec![4, 9, 11],
        );
        t.push_column("volume", "veh", vec![1.0, 0.0, 3.5, f32::NAN, 2.0, 7.0]);
        t.push_column("speed", "km/h", vec![50.0; 6]);
        let a = dir.path().join("a.parquet");
        let b = dir.path().join("b.parquet");
        write_series(&a, &t, "xxh3:abc", [0.0, 0.0]).expect("write");
        write_series(&b, &t, "xxh3:abc", [0.0, 0.0]).expect("write");
        assert_eq!(std::fs::read(&a).ok(), std::fs::read(&b).ok(), "same bytes");
        let (back, fp) = read_series(&a).expect("read");
        assert_eq!(fp, "xxh3:abc");
        assert_eq!(back.entity, t.entity);
        assert_eq!(back.times, t.times);
        assert_eq!(back.ids, t.ids);
        let v = &back.column("volume").expect("volume").values;
        assert!(v[3].is_nan());
        assert_eq!(v[5], 7.0);
        assert_eq!(back.column("speed").map(|c| c.unit.as_str()), Some("km/h"));
    }

    #[test]
    fn cells_carry_coordinates_and_bad_files_are_errors() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut t = SeriesTable::new(
            EntityKind::Cell { size_m: 250.0 },
            vec![SimTime(3600)],
            vec![super::super::cell_id(-1, 2)],
        );
        t.push_column("persons", "persons", vec![12.0]);
        let p = dir.path().join("cells.parquet");
        write_series(&p, &t, "fp", [1000.0, 2000.0]).expect("write");
        let (batch, meta) = read_table(&p).expect("plain read");
        assert_eq!(meta.get(META_ENTITY).map(String::as_str), Some("cell:250"));
        let x = batch.column_by_name("cell_x").and_then(|c| {
            c.as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.value(0))
        });
        assert_eq!(x, Some(750.0));

        let junk = dir.path().join("junk.parquet");
        std::fs::write(&junk, b"PAR1 not really").expect("write");
        assert!(matches!(
            read_series(&junk),
            Err(TableError::Parquet { .. })
        ));
        assert!(matches!(
            read_series(&dir.path().join("missing.parquet")),
            Err(TableError::Io { .. })
        ));
    }
}
