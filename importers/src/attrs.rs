//! Attribute conventions: which common attribute names carry a building's height, levels and use, and a
//! network edge's lanes, speed, direction, diameter and voltage. OSM tags and typical GIS field names are both
//! recognised; `--height-attr`, `--levels-attr` and `--use-attr` override.

use crate::ImportOptions;
use citytwin_engine::{parse_number_prefix, Building, EdgeProps, HeightSource, Oneway, Value};

/// Height attribute names, in order of preference (case-insensitive).
pub const HEIGHT_KEYS: &[&str] = &[
    "height",
    "building:height",
    "measuredheight",
    "measured_height",
    "bldg_height",
    "height_m",
    "hoehe",
    "korkeus",
];
/// Levels attribute names.
pub const LEVELS_KEYS: &[&str] = &[
    "building:levels",
    "levels",
    "floors",
    "storeys",
    "storeysaboveground",
    "num_floors",
    "floor_count",
    "stories",
    "kerrosluku",
];
/// Use attribute names.
pub const USE_KEYS: &[&str] = &[
    "building",
    "building:use",
    "use",
    "usage",
    "function",
    "building_use",
    "class",
    "type",
];
/// Minimum height attribute names.
pub const MIN_HEIGHT_KEYS: &[&str] = &["min_height", "building:min_height"];

/// An attribute value from a JSON value (GeoJSON properties, CityJSON attributes): numbers stay integers where
/// they are, arrays and objects become their JSON text.
pub fn json_to_value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
        J::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

/// Looks up attributes by name, case-insensitively.
pub trait AttrLookup {
    /// The value of `key`.
    fn get_attr(&self, key: &str) -> Option<&Value>;
}

impl AttrLookup for [(String, Value)] {
    fn get_attr(&self, key: &str) -> Option<&Value> {
        self.iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(key) && *v != Value::Null)
            .map(|(_, v)| v)
    }
}

fn first<'a>(a: &'a [(String, Value)], over: Option<&str>, keys: &[&str]) -> Option<&'a Value> {
    match over {
        Some(k) => a.get_attr(k),
        None => keys.iter().find_map(|k| a.get_attr(k)),
    }
}

/// A length in metres from a value such as `12`, `"12.5"`, `"12 m"` or `"40 ft"`/`"40'"`.
pub fn length_m(v: &Value) -> Option<f64> {
    let x = v.as_f64()?;
    let feet = v
        .as_str()
        .is_some_and(|s| s.contains('\'') || s.to_ascii_lowercase().contains("ft"));
    let m = if feet { x * 0.3048 } else { x };
    (m.is_finite() && m >= 0.0).then_some(m)
}

/// Building properties from attributes: height from a height attribute, else levels × storey height, else the
/// default height.
pub fn building_from_attrs(a: &[(String, Value)], opts: &ImportOptions) -> Building {
    let levels = first(a, opts.levels_attr.as_deref(), LEVELS_KEYS)
        .and_then(Value::as_f64)
        .filter(|l| *l >= 0.0 && *l < 500.0);
    let height = first(a, opts.height_attr.as_deref(), HEIGHT_KEYS)
        .and_then(length_m)
        .filter(|h| *h > 0.0 && *h < 1000.0);
    let min_height = MIN_HEIGHT_KEYS
        .iter()
        .find_map(|k| a.get_attr(k))
        .and_then(length_m)
        .or_else(|| {
            a.get_attr("building:min_level")
                .and_then(Value::as_f64)
                .map(|l| l * opts.storey_height_m)
        })
        .unwrap_or(0.0);
    let (h, src) = match (height, levels) {
        (Some(h), _) => (h, HeightSource::HeightAttribute),
        (None, Some(l)) if l > 0.0 => (min_height + l * opts.storey_height_m, HeightSource::Levels),
        _ => (min_height + opts.default_height_m, HeightSource::Default),
    };
    let mut b = Building::with_height(h.max(min_height), src);
    b.min_height = min_height;
    b.levels = levels.map(|l| l as f32);
    b.usage = first(a, opts.use_attr.as_deref(), USE_KEYS).map(|v| v.to_string());
    b
}

/// A speed in km/h from `maxspeed`-style values (`50`, `"30 mph"`); `None` for symbolic values.
pub fn speed_kmh(v: &Value) -> Option<f32> {
    let x = v.as_f64()?;
    let mph = v.as_str().is_some_and(|s| s.contains("mph"));
    let k = if mph { x * 1.609_344 } else { x };
    (k > 0.0 && k < 400.0).then_some(k as f32)
}

/// Network edge properties from attributes (OSM tags or GIS fields).
pub fn edge_props(a: &[(String, Value)], class_keys: &[&str]) -> EdgeProps {
    let class = class_keys
        .iter()
        .find_map(|k| a.get_attr(k))
        .map(|v| v.to_string())
        .unwrap_or_default();
    let oneway_implied = matches!(class.as_str(), "motorway" | "motorway_link")
        || a.get_attr("junction").and_then(Value::as_str) == Some("roundabout");
    let oneway = match a
        .get_attr("oneway")
        .map(|v| v.to_string().to_ascii_lowercase())
    {
        Some(s) if s == "yes" || s == "1" || s == "true" || s == "ft" => Oneway::Forward,
        Some(s) if s == "-1" || s == "reverse" || s == "tf" => Oneway::Backward,
        Some(s) if s == "no" || s == "0" || s == "false" => Oneway::No,
        _ if oneway_implied => Oneway::Forward,
        _ => Oneway::No,
    };
    let voltage_v = a.get_attr("voltage").and_then(|v| {
        v.to_string()
            .split(';')
            .filter_map(parse_number_prefix)
            .reduce(f64::max)
            .map(|x| x as f32)
    });
    let diameter_mm = a.get_attr("diameter").and_then(|v| {
        let x = v.as_f64()?;
        let unit = v.to_string().trim().to_ascii_lowercase();
        let mm = if unit.ends_with("mm") {
            x
        } else if unit.ends_with("cm") {
            x * 10.0
        } else if unit.ends_with('m') {
            x * 1000.0
        } else {
            x
        };
        (mm > 0.0).then_some(mm as f32)
    });
    EdgeProps {
        class,
        lanes: a
            .get_attr("lanes")
            .and_then(Value::as_f64)
            .filter(|l| *l >= 1.0 && *l < 20.0)
            .map(|l| l as u8),
        speed_kmh: a.get_attr("maxspeed").and_then(speed_kmh),
        oneway,
        diameter_mm,
        voltage_v,
        substance: a.get_attr("substance").map(|v| v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(kv: &[(&str, &str)]) -> Vec<(String, Value)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), Value::Text(v.to_string())))
            .collect()
    }

    #[test]
    fn height_sources_in_order() {
        let o = ImportOptions::default();
        let b = building_from_attrs(
            &attrs(&[("height", "12.5 m"), ("building:levels", "5")]),
            &o,
        );
        assert_eq!(
            (b.height, b.height_source),
            (12.5, HeightSource::HeightAttribute)
        );
        let b = building_from_attrs(
            &attrs(&[("building:levels", "5"), ("building", "residential")]),
            &o,
        );
        assert_eq!((b.height, b.height_source), (15.0, HeightSource::Levels));
        assert_eq!(b.usage.as_deref(), Some("residential"));
        let b = building_from_attrs(&attrs(&[("building", "yes")]), &o);
        assert_eq!((b.height, b.height_source), (9.0, HeightSource::Default));
        let b = building_from_attrs(&attrs(&[("HEIGHT", "40 ft")]), &o);
        assert!((b.height - 12.192).abs() < 1e-9);
        let custom = ImportOptions {
            height_attr: Some("h_roof".into()),
            ..ImportOptions::default()
        };
        let b = building_from_attrs(&attrs(&[("h_roof", "7"), ("height", "99")]), &custom);
        assert_eq!(b.height, 7.0);
        let b = building_from_attrs(&attrs(&[("min_height", "3"), ("building:levels", "2")]), &o);
        assert_eq!((b.min_height, b.height), (3.0, 9.0));
    }

    #[test]
    fn edge_properties() {
        let p = edge_props(
            &attrs(&[("highway", "motorway"), ("lanes", "3"), ("maxspeed", "120")]),
            &["highway"],
        );
        assert_eq!(p.class, "motorway");
        assert_eq!(p.oneway, Oneway::Forward);
        assert_eq!(p.lanes, Some(3));
        assert_eq!(p.speed_kmh, Some(120.0));
        let p = edge_props(
            &attrs(&[
                ("highway", "residential"),
                ("oneway", "-1"),
                ("maxspeed", "20 mph"),
            ]),
            &["highway"],
        );
        assert_eq!(p.oneway, Oneway::Backward);
        assert!((p.speed_kmh.unwrap_or(0.0) - 32.186).abs() < 0.01);
        let p = edge_props(
            &attrs(&[("power", "line"), ("voltage", "110000;20000")]),
            &["power"],
        );
        assert_eq!(p.voltage_v, Some(110_000.0));
        let p = edge_props(&attrs(&[("diameter", "200")]), &["man_made"]);
        assert_eq!(p.diameter_mm, Some(200.0));
    }
}
