//! Import errors: every variant names the file and what is wrong with it.

use citytwin_engine::crs::CrsError;
use std::path::PathBuf;
use thiserror::Error;

/// Why an import failed. Nothing is written to the scene when one of these is returned.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("{path}")]
    Io {
        /// The input file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The content is no format citytwin reads.
    #[error("{path}: unrecognised format ({detail})")]
    UnknownFormat {
        /// The input file.
        path: PathBuf,
        /// What was seen.
        detail: String,
    },
    /// The extension promises one format and the content is another.
    #[error("{path}: the extension says {expected}, but the content is {found}")]
    WrongExtension {
        /// The input file.
        path: PathBuf,
        /// Format the extension names.
        expected: String,
        /// Format of the content.
        found: String,
    },
    /// The file is cut short or its structure is broken.
    #[error("{path}: corrupt or truncated {format} ({detail})")]
    Corrupt {
        /// The input file.
        path: PathBuf,
        /// Format being read.
        format: String,
        /// What failed, with position where known.
        detail: String,
    },
    /// The file has no CRS and none was given.
    #[error("{path}: {what} has no coordinate reference system; give one with --src-crs (e.g. --src-crs EPSG:25832)")]
    MissingCrs {
        /// The input file.
        path: PathBuf,
        /// Which part (layer name, raster).
        what: String,
    },
    /// The file's (or the given) CRS is unknown to PROJ.
    #[error("{path}")]
    Crs {
        /// The input file.
        path: PathBuf,
        /// The CRS problem.
        #[source]
        source: CrsError,
    },
    /// GDAL failed on the file.
    #[error("{path}: GDAL")]
    Gdal {
        /// The input file.
        path: PathBuf,
        /// GDAL's error.
        #[source]
        source: gdal::errors::GdalError,
    },
    /// The file is well-formed text but breaks its format's rules: bad values, undefined references. Each
    /// problem names its line.
    #[error("{path}: {} problem(s) in the {format} file:\n  {}", problems.len(), problems.join("\n  "))]
    Invalid {
        /// The input file.
        path: PathBuf,
        /// Format being read.
        format: String,
        /// The problems, each with its line (at most ten, as EPANET reports).
        problems: Vec<String>,
    },
    /// The file is readable but holds nothing citytwin can use.
    #[error("{path}: {detail}")]
    Unsupported {
        /// The input file.
        path: PathBuf,
        /// What is missing or not supported.
        detail: String,
    },
}
