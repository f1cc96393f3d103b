//! One GeoJSON feature deserialized straight into what a layer needs: positions into `geo` coordinates,
//! properties into attribute values. (The `geojson` crate's `Feature` builds a map of `serde_json` values per
//! feature and positions as small vectors, which are then converted and cloned again: at a million features
//! that was most of the import's time.) Members may come in any order; a geometry's `coordinates` before its
//! `type` are taken as raw text and read once the type is known.

use citytwin_engine::Value;
use geo_types::Coord;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A feature: its geometry (none for `"geometry": null`), its properties in file order (names borrowed from
/// the text where they hold no escapes), its `id`.
pub(crate) struct FeatureDe<'a> {
    pub geometry: Option<GeometryDe>,
    pub properties: Vec<(Cow<'a, str>, Value)>,
    pub id: Option<Value>,
}

/// A GeoJSON geometry in the source CRS.
pub(crate) enum GeometryDe {
    Point(Coord<f64>),
    MultiPoint(Vec<Coord<f64>>),
    LineString(Vec<Coord<f64>>),
    MultiLineString(Vec<Vec<Coord<f64>>>),
    /// Rings as written (unclosed rings are repaired and counted later).
    Polygon(Vec<Vec<Coord<f64>>>),
    MultiPolygon(Vec<Vec<Vec<Coord<f64>>>>),
    Collection(Vec<GeometryDe>),
    /// Some position has fewer than two numbers.
    Short,
}

/// A JSON value as an attribute: numbers as integers where they are, text as text, arrays and objects as their
/// JSON text.
pub(crate) fn value_of(v: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
        J::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

/// The member names that matter, recognised without allocating a string per key.
enum Key {
    Type,
    Geometry,
    Properties,
    Id,
    Coordinates,
    Geometries,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(match s {
                    "type" => Key::Type,
                    "geometry" => Key::Geometry,
                    "properties" => Key::Properties,
                    "id" => Key::Id,
                    "coordinates" => Key::Coordinates,
                    "geometries" => Key::Geometries,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A position: x and y, further numbers (z, m) ignored; `None` when it has fewer than two.
struct Pos(Option<Coord<f64>>);

impl<'de> Deserialize<'de> for Pos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a position [x, y, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pos, A::Error> {
                let x = seq.next_element::<f64>()?;
                let y = match x {
                    Some(_) => seq.next_element::<f64>()?,
                    None => None,
                };
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Pos(x.zip(y).map(|(x, y)| Coord { x, y })))
            }
        }
        d.deserialize_seq(V)
    }
}

fn line(v: Vec<Pos>) -> Option<Vec<Coord<f64>>> {
    v.into_iter().map(|p| p.0).collect()
}

fn lines(v: Vec<Vec<Pos>>) -> Option<Vec<Vec<Coord<f64>>>> {
    v.into_iter().map(line).collect()
}

/// Reads `coordinates` for a geometry of type `kind`.
fn coordinates<'de, D: Deserializer<'de>>(kind: &str, d: D) -> Result<GeometryDe, D::Error> {
    let g = match kind {
        "Point" => Pos::deserialize(d)?.0.map(GeometryDe::Point),
        "MultiPoint" => line(Vec::deserialize(d)?).map(GeometryDe::MultiPoint),
        "LineString" => line(Vec::deserialize(d)?).map(GeometryDe::LineString),
        "MultiLineString" => lines(Vec::deserialize(d)?).map(GeometryDe::MultiLineString),
        "Polygon" => lines(Vec::deserialize(d)?).map(GeometryDe::Polygon),
        "MultiPolygon" => Vec::<Vec<Vec<Pos>>>::deserialize(d)?
            .into_iter()
            .map(lines)
            .collect::<Option<_>>()
            .map(GeometryDe::MultiPolygon),
        other => {
            return Err(de::Error::custom(format!(
                "unknown geometry type `{other}`"
            )))
        }
    };
    Ok(g.unwrap_or(GeometryDe::Short))
}

impl<'de> Deserialize<'de> for GeometryDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GeometryDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a GeoJSON geometry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GeometryDe, A::Error> {
                let mut kind: Option<String> = None;
                let mut done: Option<GeometryDe> = None;
                let mut raw: Option<&'de RawValue> = None;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Type => kind = Some(map.next_value()?),
                        Key::Coordinates => match kind.as_deref() {
                            Some(k) => done = Some(map.next_value_seed(CoordSeed(k))?),
                            None => raw = Some(map.next_value()?),
                        },
                        Key::Geometries => {
                            done = Some(GeometryDe::Collection(map.next_value()?));
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
                if let Some(g) = done {
                    return Ok(g);
                }
                if kind == "GeometryCollection" {
                    return Err(de::Error::missing_field("geometries"));
                }
                let raw = raw.ok_or_else(|| de::Error::missing_field("coordinates"))?;
                let mut d = serde_json::Deserializer::from_str(raw.get());
                coordinates(&kind, &mut d).map_err(de::Error::custom)
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads `coordinates` once the type is known.
struct CoordSeed<'k>(&'k str);

impl<'de> de::DeserializeSeed<'de> for CoordSeed<'_> {
    type Value = GeometryDe;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<GeometryDe, D::Error> {
        coordinates(self.0, d)
    }
}

/// A member name, borrowed from the text when it can be.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Properties in file order (`null` for none).
struct Props<'a>(Vec<(Cow<'a, str>, Value)>);

impl<'de> Deserialize<'de> for Props<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Props<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of properties or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Props<'de>, E> {
                Ok(Props(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Props<'de>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(k) = map.next_key::<Name<'de>>()? {
                    let v: serde_json::Value = map.next_value()?;
                    out.push((k.0, value_of(v)));
                }
                Ok(Props(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for FeatureDe<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FeatureDe<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a GeoJSON feature")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FeatureDe<'de>, A::Error> {
                let mut f = FeatureDe {
                    geometry: None,
                    properties: Vec::new(),
                    id: None,
                };
                let mut kind: Option<String> = None;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Type => kind = Some(map.next_value()?),
                        Key::Geometry => f.geometry = map.next_value()?,
                        Key::Properties => f.properties = map.next_value::<Props>()?.0,
                        Key::Id => f.id = Some(value_of(map.next_value()?)),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                match kind.as_deref() {
                    Some("Feature") => Ok(f),
                    Some(other) => Err(de::Error::custom(format!(
                        "a member of `features` is of type `{other}`, not Feature"
                    ))),
                    None => Err(de::Error::missing_field("type")),
                }
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FeatureDe<'_> {
        serde_json::from_str(s).expect("a feature")
    }

    #[test]
    fn members_in_any_order_and_extra_dimensions() {
        let f = parse(
            r#"{"properties":{"a":1,"b":"x","c":[1,2],"d":null,"e":1.5},"geometry":{"coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,0,5]]],"type":"Polygon"},"type":"Feature","id":"w1"}"#,
        );
        let Some(GeometryDe::Polygon(rings)) = f.geometry else {
            panic!("a polygon")
        };
        assert_eq!(rings[0].len(), 4);
        assert_eq!(rings[0][1], Coord { x: 1.0, y: 0.0 });
        assert_eq!(
            f.properties,
            vec![
                ("a".into(), Value::Int(1)),
                ("b".into(), Value::Text("x".into())),
                ("c".into(), Value::Text("[1,2]".into())),
                ("d".into(), Value::Null),
                ("e".into(), Value::Float(1.5)),
            ]
        );
        assert_eq!(f.id, Some(Value::Text("w1".into())));
        let f = parse(
            r#"{"type":"Feature","properties":null,"geometry":{"type":"LineString","coordinates":[[0,0],[2]]}}"#,
        );
        assert!(matches!(f.geometry, Some(GeometryDe::Short)));
        let f = parse(r#"{"type":"Feature","geometry":null}"#);
        assert!(f.geometry.is_none() && f.properties.is_empty());
        assert!(serde_json::from_str::<FeatureDe>(
            r#"{"type":"Feature","geometry":{"type":"Circle","coordinates":[0,0]}}"#
        )
        .is_err());
        assert!(
            serde_json::from_str::<FeatureDe>(r#"{"type":"Point","coordinates":[0,0]}"#).is_err()
        );
    }
}
