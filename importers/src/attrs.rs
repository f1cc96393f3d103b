//! Attribute conventions: which common attribute names carry a building's height, levels and use, and a
//! network edge's lanes, speed, direction, diameter and voltage. OSM tags and typical GIS field names are both
//! recognised; `--height-attr`, `--levels-attr` and `--use-attr` override.

use crate::ImportOptions;
use citytwin_engine::{
    parse_number_prefix, Building, EdgeProps, HeightSource, Modes, NetworkKind, PipeProps,
    PowerLineProps, RoadClass, RoadProps, Value,
};

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

impl<K: AsRef<str>> AttrLookup for [(K, Value)] {
    fn get_attr(&self, key: &str) -> Option<&Value> {
        self.iter()
            .find(|(k, v)| k.as_ref().eq_ignore_ascii_case(key) && *v != Value::Null)
            .map(|(_, v)| v)
    }
}

fn first<'a, K: AsRef<str>>(
    a: &'a [(K, Value)],
    over: Option<&str>,
    keys: &[&str],
) -> Option<&'a Value> {
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
pub fn building_from_attrs<K: AsRef<str>>(a: &[(K, Value)], opts: &ImportOptions) -> Building {
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
    b.usage = first(a, opts.use_attr.as_deref(), USE_KEYS).map(|v| v.to_string().into());
    b
}

/// A speed in km/h from `maxspeed`-style values (`50`, `"30 mph"`); `None` for symbolic values.
pub fn speed_kmh(v: &Value) -> Option<f32> {
    let x = v.as_f64()?;
    let mph = v.as_str().is_some_and(|s| s.contains("mph"));
    let k = if mph { x * 1.609_344 } else { x };
    (k > 0.0 && k < 400.0).then_some(k as f32)
}

fn text(a: &[(String, Value)], key: &str) -> Option<String> {
    a.get_attr(key)
        .map(|v| v.to_string().trim().to_ascii_lowercase())
}

fn lanes_value(a: &[(String, Value)], key: &str) -> Option<u8> {
    a.get_attr(key)
        .and_then(Value::as_f64)
        .filter(|l| *l >= 0.0 && *l < 20.0)
        .map(|l| l as u8)
}

/// Road properties from OSM tags or GIS fields: class, lanes per direction (`lanes:forward`/`lanes:backward`,
/// else `lanes` split by direction, else the class default), speed (`maxspeed`, else the class default), who may
/// use it (`access`, `motor_vehicle`, `bicycle`, `foot` refine the class default) and the name.
pub fn road_props(a: &[(String, Value)], class_keys: &[&str]) -> RoadProps {
    let class_text = class_keys
        .iter()
        .find_map(|k| a.get_attr(k))
        .map(|v| v.to_string())
        .unwrap_or_default();
    let class = RoadClass::from_osm(&class_text);
    let mut r = RoadProps::new(class);
    let oneway_implied = matches!(class, RoadClass::Motorway | RoadClass::MotorwayLink)
        || text(a, "junction").as_deref() == Some("roundabout");
    let oneway = match text(a, "oneway").as_deref() {
        Some("yes" | "1" | "true" | "ft") => Oneway::Forward,
        Some("-1" | "reverse" | "tf") => Oneway::Backward,
        Some("no" | "0" | "false") => Oneway::Both,
        _ if oneway_implied => Oneway::Forward,
        _ => Oneway::Both,
    };
    let total = lanes_value(a, "lanes").filter(|l| *l >= 1);
    let (fwd, bwd) = (
        lanes_value(a, "lanes:forward"),
        lanes_value(a, "lanes:backward"),
    );
    let default = class.default_lanes_per_direction();
    let (mut lf, mut lb) = match (oneway, fwd, bwd, total) {
        (Oneway::Forward, f, _, t) => (f.or(t).unwrap_or(default), 0),
        (Oneway::Backward, _, b, t) => (0, b.or(t).unwrap_or(default)),
        (Oneway::Both, Some(f), Some(b), _) => (f, b),
        (Oneway::Both, Some(f), None, t) => (f, t.map_or(default, |t| t.saturating_sub(f).max(1))),
        (Oneway::Both, None, Some(b), t) => (t.map_or(default, |t| t.saturating_sub(b).max(1)), b),
        (Oneway::Both, None, None, Some(t)) => (t.div_ceil(2).max(1), (t / 2).max(1)),
        (Oneway::Both, None, None, None) => (default, default),
    };
    if oneway == Oneway::Both {
        lf = lf.max(1);
        lb = lb.max(1);
    }
    r.lanes_forward = lf;
    r.lanes_backward = lb;
    if let Some(v) = a.get_attr("maxspeed").and_then(speed_kmh) {
        r.speed_kmh = v;
        r.speed_tagged = true;
    }
    let no = |k: &str| {
        matches!(
            text(a, k).as_deref(),
            Some("no" | "private_no" | "agricultural")
        )
    };
    let yes = |k: &str| {
        matches!(
            text(a, k).as_deref(),
            Some("yes" | "designated" | "permissive")
        )
    };
    if no("access") || no("motor_vehicle") || no("motorcar") || no("vehicle") {
        r.modes = r.modes.without(Modes::CAR);
    }
    if no("bicycle") || no("access") && !yes("bicycle") {
        r.modes = r.modes.without(Modes::BICYCLE);
    } else if yes("bicycle") {
        r.modes = r.modes.with(Modes::BICYCLE);
    }
    if no("foot") || no("access") && !yes("foot") {
        r.modes = r.modes.without(Modes::FOOT);
    } else if yes("foot") {
        r.modes = r.modes.with(Modes::FOOT);
    }
    if yes("motor_vehicle") || yes("motorcar") {
        r.modes = r.modes.with(Modes::CAR);
    }
    r.name = a.get_attr("name").map(|v| v.to_string());
    r
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Oneway {
    Both,
    Forward,
    Backward,
}

/// Network edge properties from attributes (OSM tags or GIS fields), typed by the network's kind.
pub fn edge_props(kind: NetworkKind, a: &[(String, Value)], class_keys: &[&str]) -> EdgeProps {
    let class = || {
        class_keys
            .iter()
            .find_map(|k| a.get_attr(k))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    match kind {
        NetworkKind::Road => EdgeProps::Road(road_props(a, class_keys)),
        NetworkKind::Power => EdgeProps::Power(PowerLineProps {
            class: class(),
            voltage_v: a.get_attr("voltage").and_then(|v| {
                v.to_string()
                    .split(';')
                    .filter_map(parse_number_prefix)
                    .reduce(f64::max)
                    .map(|x| x as f32)
            }),
            circuits: a
                .get_attr("circuits")
                .and_then(Value::as_f64)
                .filter(|c| *c >= 1.0 && *c < 100.0)
                .map(|c| c as u8),
        }),
        NetworkKind::Water | NetworkKind::Gas => EdgeProps::Pipe(pipe_props(a)),
        NetworkKind::Other
            if a.get_attr("substance").is_some() || a.get_attr("diameter").is_some() =>
        {
            EdgeProps::Pipe(pipe_props(a))
        }
        NetworkKind::Waterway | NetworkKind::Other => EdgeProps::Other { class: class() },
    }
}

fn pipe_props(a: &[(String, Value)]) -> PipeProps {
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
    PipeProps {
        diameter_mm,
        substance: a.get_attr("substance").map(|v| v.to_string()),
        material: a.get_attr("material").map(|v| v.to_string()),
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
        let road =
            |kv: &[(&str, &str)]| match edge_props(NetworkKind::Road, &attrs(kv), &["highway"]) {
                EdgeProps::Road(r) => r,
                other => panic!("{other:?}"),
            };
        let p = road(&[("highway", "motorway"), ("lanes", "3"), ("maxspeed", "120")]);
        assert_eq!(p.class, RoadClass::Motorway);
        assert_eq!(
            (p.lanes_forward, p.lanes_backward),
            (3, 0),
            "motorways are oneway"
        );
        assert_eq!(p.speed_kmh, 120.0);
        assert!(p.speed_tagged);
        let p = road(&[
            ("highway", "residential"),
            ("oneway", "-1"),
            ("maxspeed", "20 mph"),
        ]);
        assert_eq!((p.lanes_forward, p.lanes_backward), (0, 1));
        assert!((p.speed_kmh - 32.186).abs() < 0.01);
        let p = road(&[("highway", "primary"), ("lanes", "3")]);
        assert_eq!((p.lanes_forward, p.lanes_backward), (2, 1));
        let p = road(&[
            ("highway", "primary"),
            ("lanes:forward", "2"),
            ("lanes:backward", "1"),
        ]);
        assert_eq!((p.lanes_forward, p.lanes_backward), (2, 1));
        let p = road(&[
            ("highway", "secondary"),
            ("lanes", "4"),
            ("lanes:backward", "1"),
        ]);
        assert_eq!((p.lanes_forward, p.lanes_backward), (3, 1));
        let p = road(&[("highway", "residential")]);
        assert_eq!(p.speed_kmh, RoadClass::Residential.default_speed_kmh());
        assert!(!p.speed_tagged);
        let p = road(&[("highway", "footway")]);
        assert!(!p.modes.contains(Modes::CAR) && p.modes.contains(Modes::FOOT));
        let p = road(&[("highway", "service"), ("motor_vehicle", "no")]);
        assert!(!p.modes.contains(Modes::CAR));
        let p = road(&[("highway", "residential"), ("name", "Kirkkokatu")]);
        assert_eq!(p.name.as_deref(), Some("Kirkkokatu"));
        let EdgeProps::Power(p) = edge_props(
            NetworkKind::Power,
            &attrs(&[("power", "line"), ("voltage", "110000;20000")]),
            &["power"],
        ) else {
            panic!("power line")
        };
        assert_eq!(p.voltage_v, Some(110_000.0));
        let EdgeProps::Pipe(p) = edge_props(
            NetworkKind::Water,
            &attrs(&[("diameter", "200")]),
            &["man_made"],
        ) else {
            panic!("pipe")
        };
        assert_eq!(p.diameter_mm, Some(200.0));
    }
}
