//! Building properties: height, where it came from, base elevation, and optional 3D surfaces (CityJSON LOD2).

use serde::{Deserialize, Serialize};

/// Where a building's height came from, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HeightSource {
    /// Measured 3D geometry (CityJSON solids or surfaces).
    Geometry,
    /// An explicit height attribute (OSM `height`, a `height` field...).
    HeightAttribute,
    /// Number of storeys × the storey height.
    Levels,
    /// No information: the importer's default height.
    Default,
}

impl HeightSource {
    /// A short lowercase name for reports and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            HeightSource::Geometry => "geometry",
            HeightSource::HeightAttribute => "height_attribute",
            HeightSource::Levels => "levels",
            HeightSource::Default => "default",
        }
    }
}

/// 3D surfaces of a building in the scene's local frame (x, y in metres from the origin; z in metres as in the
/// source's vertical datum). Each polygon is a list of rings (outer first), each ring a list of vertex indices.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Surfaces {
    /// Level of detail of the source geometry, e.g. `"2.2"`.
    pub lod: String,
    /// Vertices `[x, y, z]`.
    pub vertices: Vec<[f64; 3]>,
    /// Polygons, each a list of rings of vertex indices.
    pub polygons: Vec<Vec<Vec<u32>>>,
}

/// A building's use (`residential`, `apartments`, `school`...), interned: a city has a few dozen distinct uses
/// and may have millions of buildings, so a building holds a 4-byte handle and each text is kept once, for the
/// life of the process (a million buildings: 32 MB less than a text each). Reads as its text (`Deref<str>`, no
/// lock); encoded as its text, so the scene file holds texts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Usage(std::num::NonZeroU32);

/// Texts of the interned uses, in blocks made as needed: handle `i` (from 1) is slot `(i - 1) % USE_BLOCK` of
/// block `(i - 1) / USE_BLOCK`. Slots are written once, under [`USE_IDS`]'s lock, and read without it.
const USE_BLOCK: usize = 1024;
const USE_BLOCKS: usize = 4096;
type UseBlock = Box<[std::sync::OnceLock<&'static str>]>;
static USE_TEXTS: [std::sync::OnceLock<UseBlock>; USE_BLOCKS] =
    [const { std::sync::OnceLock::new() }; USE_BLOCKS];
/// The handle of each text interned so far.
static USE_IDS: std::sync::Mutex<Option<std::collections::HashMap<&'static str, Usage>>> =
    std::sync::Mutex::new(None);
/// Where every text goes once the table is full (four million distinct uses: only a hostile file gets there).
const USE_OVERFLOW: &str = "(too many distinct uses)";

impl Usage {
    /// The handle of `text`, interning it on first sight.
    pub fn new(text: &str) -> Usage {
        // Each thread remembers the handles it has seen, so that importing on all cores does not take the shared
        // lock per building.
        thread_local! {
            static SEEN: std::cell::RefCell<std::collections::HashMap<Box<str>, Usage>> =
                std::cell::RefCell::new(std::collections::HashMap::new());
        }
        let seen = SEEN
            .try_with(|s| s.borrow().get(text).copied())
            .ok()
            .flatten();
        if let Some(u) = seen {
            return u;
        }
        let u = Usage::intern(text);
        let _ = SEEN.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() >= 4096 {
                s.clear();
            }
            s.insert(text.into(), u);
        });
        u
    }

    fn intern(text: &str) -> Usage {
        // The map is only ever inserted into, whole after each insert: a poisoned lock still holds a valid map.
        let mut ids = USE_IDS.lock().unwrap_or_else(|e| e.into_inner());
        let ids = ids.get_or_insert_with(Default::default);
        if let Some(u) = ids.get(text) {
            return *u;
        }
        let n = ids.len();
        // The last slot is kept for the overflow text.
        let text = if n + 1 < USE_BLOCK * USE_BLOCKS {
            text
        } else if let Some(u) = ids.get(USE_OVERFLOW) {
            return *u;
        } else {
            tracing::warn!(
                "{n} distinct building uses: further ones are recorded as `{USE_OVERFLOW}`"
            );
            USE_OVERFLOW
        };
        let text: &'static str = Box::leak(text.into());
        let block = USE_TEXTS[n / USE_BLOCK]
            .get_or_init(|| (0..USE_BLOCK).map(|_| std::sync::OnceLock::new()).collect());
        let _ = block[n % USE_BLOCK].set(text);
        let id =
            Usage(std::num::NonZeroU32::new(n as u32 + 1).unwrap_or(std::num::NonZeroU32::MIN));
        ids.insert(text, id);
        id
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        let i = self.0.get() as usize - 1;
        USE_TEXTS
            .get(i / USE_BLOCK)
            .and_then(|b| b.get())
            .and_then(|b| b[i % USE_BLOCK].get())
            .copied()
            .unwrap_or(USE_OVERFLOW)
    }
}

impl std::ops::Deref for Usage {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Usage {
    fn from(text: &str) -> Self {
        Usage::new(text)
    }
}

impl From<String> for Usage {
    fn from(text: String) -> Self {
        Usage::new(&text)
    }
}

impl std::fmt::Debug for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Usage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Usage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Usage;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a building use")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Usage, E> {
                Ok(Usage::new(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// What a building feature adds to a plain polygon feature.
///
/// # Units
/// All lengths in metres. `height` is measured from the base (`base_elevation + min_height` is the bottom of the
/// volume, `base_elevation + height` its top).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Height of the top above the base.
    pub height: f64,
    /// Where `height` came from.
    pub height_source: HeightSource,
    /// Height of the bottom above the base (OSM `min_height`, building parts over passages).
    pub min_height: f64,
    /// Ground elevation under the building: from the scene terrain, or from the 3D geometry's lowest point.
    pub base_elevation: f64,
    /// Number of storeys above ground, when known.
    pub levels: Option<f32>,
    /// Use or class (OSM `building=*`, a `use` field...), when known.
    pub usage: Option<Usage>,
    /// Best-LOD 3D surfaces, when the source had them.
    pub surfaces: Option<Box<Surfaces>>,
}

impl Building {
    /// A building of `height` metres with no other information.
    pub fn with_height(height: f64, height_source: HeightSource) -> Self {
        Building {
            height,
            height_source,
            min_height: 0.0,
            base_elevation: 0.0,
            levels: None,
            usage: None,
            surfaces: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_interned_and_encoded_as_text() {
        let a = Usage::new("residential");
        let c = Usage::new("school");
        assert_eq!(a, Usage::from(String::from("residential")));
        assert_ne!(a, c);
        assert_eq!(&*a, "residential");
        assert_eq!(c.to_string(), "school");
        // Another thread gets the same handle.
        let d = std::thread::spawn(|| Usage::new("residential"))
            .join()
            .expect("no panic");
        assert_eq!(a, d);
        // Encoded as its text: the scene file holds the same bytes as for a text.
        let cfg = bincode::config::standard();
        let enc = bincode::serde::encode_to_vec(Some(a), cfg).expect("encodes");
        let text =
            bincode::serde::encode_to_vec(Some("residential".to_owned()), cfg).expect("encodes");
        assert_eq!(enc, text);
        let (back, _): (Option<Usage>, usize) =
            bincode::serde::decode_from_slice(&enc, cfg).expect("decodes");
        assert_eq!(back, Some(a));
        assert_eq!(serde_json::to_string(&c).expect("json"), "\"school\"");
        // A building holds a handle, not a text.
        assert!(std::mem::size_of::<Building>() <= 48);
    }
}
