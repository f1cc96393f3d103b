//! Layer kind and network kind detection from a layer's name, attribute names and geometry types.

use citytwin_engine::{LayerKind, NetworkKind};

/// What a source layer mostly holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryFamily {
    /// Points.
    Point,
    /// Lines.
    Line,
    /// Polygons.
    Polygon,
    /// A raster.
    Raster,
    /// Unknown or mixed.
    Unknown,
}

fn has(name: &str, words: &[&str]) -> bool {
    let n = name.to_ascii_lowercase();
    words.iter().any(|w| n.contains(w))
}

/// The layer kind: buildings for polygons named or attributed like buildings, infrastructure for lines,
/// framework for the rest (terrain, boundaries, parcels, land use).
pub fn layer_kind(name: &str, keys: &[String], family: GeometryFamily) -> LayerKind {
    let key_has = |words: &[&str]| {
        keys.iter()
            .any(|k| words.iter().any(|w| k.eq_ignore_ascii_case(w)))
    };
    match family {
        GeometryFamily::Raster => LayerKind::Framework,
        GeometryFamily::Line => LayerKind::Infrastructure,
        GeometryFamily::Polygon | GeometryFamily::Unknown => {
            if has(
                name,
                &[
                    "build",
                    "bldg",
                    "gebaeude",
                    "gebäude",
                    "rakennu",
                    "bati",
                    "pand",
                    "footprint",
                ],
            ) || key_has(&[
                "building",
                "building:levels",
                "bldg_height",
                "measuredheight",
                "storeysaboveground",
            ]) {
                LayerKind::Buildings
            } else {
                LayerKind::Framework
            }
        }
        GeometryFamily::Point => {
            if has(
                name,
                &[
                    "pole",
                    "tower",
                    "hydrant",
                    "valve",
                    "manhole",
                    "substation",
                    "node",
                ],
            ) {
                LayerKind::Infrastructure
            } else {
                LayerKind::Framework
            }
        }
    }
}

/// The network kind of a line layer, from its name and attribute names.
pub fn network_kind(name: &str, keys: &[String]) -> NetworkKind {
    let key_has = |w: &str| keys.iter().any(|k| k.eq_ignore_ascii_case(w));
    if key_has("highway")
        || has(
            name,
            &["road", "street", "highway", "strasse", "tie", "weg"],
        )
    {
        NetworkKind::Road
    } else if key_has("voltage") || has(name, &["power", "electric", "cable", "grid", "sähkö"]) {
        NetworkKind::Power
    } else if has(name, &["gas"]) {
        NetworkKind::Gas
    } else if has(name, &["water", "main", "pipe", "vesi"]) && !key_has("waterway") {
        NetworkKind::Water
    } else if key_has("waterway") || has(name, &["river", "stream", "canal"]) {
        NetworkKind::Waterway
    } else {
        NetworkKind::Other
    }
}

/// Attribute names that hold an edge's class, by network kind.
pub fn class_keys(kind: NetworkKind) -> &'static [&'static str] {
    match kind {
        NetworkKind::Road => &["highway", "class", "type", "fclass"],
        NetworkKind::Power => &["power", "class", "type"],
        NetworkKind::Waterway => &["waterway", "class", "type"],
        _ => &["man_made", "class", "type", "material"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            layer_kind("buildings", &[], GeometryFamily::Polygon),
            LayerKind::Buildings
        );
        assert_eq!(
            layer_kind("parcels", &k(&["id"]), GeometryFamily::Polygon),
            LayerKind::Framework
        );
        assert_eq!(
            layer_kind("x", &k(&["building:levels"]), GeometryFamily::Polygon),
            LayerKind::Buildings
        );
        assert_eq!(
            layer_kind("x", &[], GeometryFamily::Line),
            LayerKind::Infrastructure
        );
        assert_eq!(network_kind("roads", &[]), NetworkKind::Road);
        assert_eq!(network_kind("x", &k(&["voltage"])), NetworkKind::Power);
        assert_eq!(network_kind("gas_mains", &[]), NetworkKind::Gas);
        assert_eq!(network_kind("water_pipes", &[]), NetworkKind::Water);
    }
}
