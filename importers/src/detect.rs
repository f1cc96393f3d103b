//! Format detection from a file's content, checked against its extension.
//!
//! The content decides; a known extension that names a different format is an error
//! ([`ImportError::WrongExtension`]), since it usually means the wrong file was passed.

use crate::ImportError;
use std::io::Read;
use std::path::Path;

/// A format citytwin reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenStreetMap PBF.
    OsmPbf,
    /// GeoJSON (RFC 7946).
    GeoJson,
    /// CityJSON.
    CityJson,
    /// A vector format through GDAL, with its GDAL driver name.
    GdalVector(String),
    /// A raster through GDAL, with its GDAL driver name.
    GdalRaster(String),
    /// A SUMO road network (`.net.xml`).
    SumoNet,
    /// An EPANET water network (`.inp`).
    EpanetInp,
    /// A pandapower network written by `pandapower.to_json`.
    Pandapower,
}

impl Format {
    /// Human name.
    pub fn name(&self) -> String {
        match self {
            Format::OsmPbf => "OSM PBF".into(),
            Format::GeoJson => "GeoJSON".into(),
            Format::CityJson => "CityJSON".into(),
            Format::SumoNet => "SUMO network".into(),
            Format::EpanetInp => "EPANET input".into(),
            Format::Pandapower => "pandapower JSON".into(),
            Format::GdalVector(d) | Format::GdalRaster(d) => d.clone(),
        }
    }
}

/// What an extension promises, if it is one we know.
fn expected_by_extension(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    Some(if name.ends_with(".net.xml") {
        "SUMO network"
    } else if name.ends_with(".inp") {
        "EPANET input"
    } else if name.ends_with(".osm.pbf") || name.ends_with(".pbf") {
        "OSM PBF"
    } else if name.ends_with(".city.json") || name.ends_with(".cityjson") {
        "CityJSON"
    } else if name.ends_with(".geojson") {
        "GeoJSON"
    } else if name.ends_with(".gpkg") {
        "GPKG"
    } else if name.ends_with(".shp") {
        "ESRI Shapefile"
    } else if name.ends_with(".fgb") {
        "FlatGeobuf"
    } else if name.ends_with(".tif") || name.ends_with(".tiff") {
        "GTiff"
    } else {
        return None;
    })
}

/// A SUMO network: XML whose root element is `<net>` (after the declaration and comments, which netconvert
/// fills with its whole configuration).
fn xml_kind(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if !t.starts_with('<') {
        return None;
    }
    let mut rest = t;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->")? + 3..];
        } else {
            break;
        }
    }
    (rest.starts_with("<net ") || rest.starts_with("<net>") || rest.starts_with("<net\n"))
        .then_some(Format::SumoNet)
}

/// An EPANET input file: text whose first section header (after blank and `;` comment lines) is one of
/// EPANET's sections.
fn inp_kind(head: &[u8]) -> Option<Format> {
    const SECTIONS: &[&str] = &[
        "[TITLE]",
        "[JUNCTIONS]",
        "[RESERVOIRS]",
        "[TANKS]",
        "[PIPES]",
        "[PUMPS]",
        "[VALVES]",
        "[OPTIONS]",
        "[PATTERNS]",
        "[CURVES]",
        "[DEMANDS]",
        "[COORDINATES]",
        "[STATUS]",
        "[CONTROLS]",
        "[RULES]",
        "[ENERGY]",
        "[EMITTERS]",
        "[QUALITY]",
        "[SOURCES]",
        "[REACTIONS]",
        "[MIXING]",
        "[TIMES]",
        "[REPORT]",
        "[VERTICES]",
        "[LABELS]",
        "[BACKDROP]",
        "[TAGS]",
        "[LEAKAGE]",
        "[END]",
    ];
    let text = String::from_utf8_lossy(head);
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';'))?;
    let upper = first.to_ascii_uppercase();
    SECTIONS
        .iter()
        .any(|s| upper.starts_with(s))
        .then_some(Format::EpanetInp)
}

fn json_kind(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    // CityJSON's members may come in any order; "CityObjects" is as telling as the type and often first.
    if compact.contains("\"type\":\"CityJSON\"") || compact.contains("\"CityObjects\":") {
        Some(Format::CityJson)
    } else if compact.contains("\"_class\":\"pandapowerNet\"")
        || compact.contains("\"_module\":\"pandapower.auxiliary\"")
    {
        Some(Format::Pandapower)
    } else {
        Some(Format::GeoJson)
    }
}

/// Detects the format of `path`.
///
/// # Errors
/// [`ImportError::Io`] if unreadable, [`ImportError::UnknownFormat`] if nothing recognises it,
/// [`ImportError::WrongExtension`] if the content contradicts a known extension.
pub fn detect(path: &Path) -> Result<Format, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        // A directory of shapefiles, say: GDAL decides.
        return gdal_format(path);
    }
    let mut head = vec![0u8; 1 << 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(io)?;
    head.truncate(n);
    if n == 0 {
        return Err(ImportError::UnknownFormat {
            path: path.to_owned(),
            detail: "the file is empty".into(),
        });
    }
    if head.starts_with(citytwin_engine::store::MAGIC) {
        return Err(ImportError::UnknownFormat {
            path: path.to_owned(),
            detail: "this is a citytwin scene file, not a source to import; open it with `citytwin info`, \
                     `query` or `view`, or give it as --out to add layers to it"
                .into(),
        });
    }
    let found = if n >= 15 && head[4..6] == *b"\x0a\x09" && head[6..15] == *b"OSMHeader" {
        Format::OsmPbf
    } else if let Some(f) = inp_kind(&head) {
        f
    } else if let Some(f) = json_kind(&head[..n.min(4096)]) {
        f
    } else if let Some(f) = xml_kind(&head) {
        f
    } else {
        gdal_format(path)?
    };
    if let Some(expected) = expected_by_extension(path) {
        let found_name = found.name();
        let compatible = expected == found_name
            // JSON content in a .geojson/.json-like file is judged by its type member; GDAL may name GeoJSON too.
            || (expected == "GeoJSON" && found_name == "GeoJSON");
        if !compatible {
            return Err(ImportError::WrongExtension {
                path: path.to_owned(),
                expected: expected.into(),
                found: found_name,
            });
        }
    }
    Ok(found)
}

fn gdal_format(path: &Path) -> Result<Format, ImportError> {
    // GDAL's own error here says only that it returned a null pointer: what helps is the list of what was tried.
    let ds = gdal::Dataset::open(path).map_err(|_| ImportError::UnknownFormat {
        path: path.to_owned(),
        detail: "neither OSM PBF, GeoJSON, CityJSON, EPANET, SUMO or pandapower, nor a vector or raster format \
                 GDAL opens"
            .into(),
    })?;
    let driver = ds.driver().short_name();
    if ds.layer_count() > 0 {
        Ok(Format::GdalVector(driver))
    } else if ds.raster_count() > 0 {
        Ok(Format::GdalRaster(driver))
    } else {
        Err(ImportError::UnknownFormat {
            path: path.to_owned(),
            detail: format!(
                "GDAL ({driver}) opens it but finds neither vector layers nor raster bands"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_kinds() {
        assert_eq!(
            json_kind(br#"{"type": "CityJSON", "version": "2.0"}"#),
            Some(Format::CityJson)
        );
        assert_eq!(
            json_kind(br#"{"CityObjects":{"b1":{}},"type":"CityJSON"}"#),
            Some(Format::CityJson)
        );
        assert_eq!(
            json_kind(br#"  {"type":"FeatureCollection","features":[]}"#),
            Some(Format::GeoJson)
        );
        assert_eq!(json_kind(b"II*\0"), None);
        assert_eq!(
            xml_kind(
                b"<?xml version=\"1.0\"?>\n<!-- netconvert\n<config/> -->\n<net version=\"1.20\">"
            ),
            Some(Format::SumoNet)
        );
        assert_eq!(xml_kind(b"<routes><trip/></routes>"), None);
        assert_eq!(
            inp_kind(b"; a comment\n\n[TITLE]\nNet 1\n[JUNCTIONS]"),
            Some(Format::EpanetInp)
        );
        assert_eq!(
            inp_kind(b"[{\"type\": 1}]"),
            None,
            "a JSON array is not EPANET"
        );
        assert_eq!(
            json_kind(
                br#"{"_module": "pandapower.auxiliary", "_class": "pandapowerNet", "_object": {}}"#
            ),
            Some(Format::Pandapower)
        );
    }

    #[test]
    fn content_beats_extension() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("roads.shp");
        std::fs::write(&p, br#"{"type":"FeatureCollection","features":[]}"#).expect("write");
        assert!(matches!(
            detect(&p),
            Err(ImportError::WrongExtension { .. })
        ));
        let p = dir.path().join("empty.geojson");
        std::fs::write(&p, b"").expect("write");
        assert!(matches!(detect(&p), Err(ImportError::UnknownFormat { .. })));
        let p = dir.path().join("noise.dat");
        std::fs::write(&p, b"\x00\x01\x02 definitely not GIS").expect("write");
        assert!(matches!(detect(&p), Err(ImportError::UnknownFormat { .. })));
    }
}
