//! A layer: features of one kind from one source, with its network or terrain, report and spatial index.

use super::attributes::{Attributes, KeyTable, Value, ValueRef};
use super::feature::Feature;
use super::network::Network;
use super::terrain::Terrain;
use crate::ids::FeatureId;
use crate::spatial::LayerIndex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The three families of city data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LayerKind {
    /// Building footprints with heights, or 3D building models.
    Buildings,
    /// The geospatial framework: terrain, boundaries, parcels, land use.
    Framework,
    /// Networks: roads, water, power, gas, waterways.
    Infrastructure,
}

impl LayerKind {
    /// Lowercase name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Buildings => "buildings",
            LayerKind::Framework => "framework",
            LayerKind::Infrastructure => "infrastructure",
        }
    }

    /// Parses a name as printed by [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "buildings" | "building" => Some(LayerKind::Buildings),
            "framework" => Some(LayerKind::Framework),
            "infrastructure" | "network" => Some(LayerKind::Infrastructure),
            _ => None,
        }
    }
}

/// Where a layer came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerSource {
    /// Path of the source file, as given on the command line.
    pub path: String,
    /// Format, e.g. `OSM PBF`, `GPKG`, `CityJSON 2.0`.
    pub format: String,
    /// The source's CRS definition.
    pub crs: String,
}

/// What the importer did with a layer's source objects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Objects of this layer's kind read from the source (OSM ways and relations, GIS features, city objects).
    pub source_objects: u64,
    /// Objects skipped, counted by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Objects imported after a safe repair, counted by repair.
    pub repaired: BTreeMap<String, u64>,
}

impl LayerReport {
    /// Counts one skipped object.
    pub fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// Counts one repaired object.
    pub fn repair(&mut self, what: impl Into<String>) {
        *self.repaired.entry(what.into()).or_default() += 1;
    }

    /// Total skipped.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// A layer of the scene.
#[derive(Debug, Serialize, Deserialize)]
pub struct Layer {
    /// Unique name within the scene.
    pub name: String,
    /// Kind.
    pub kind: LayerKind,
    /// Where it came from.
    pub source: LayerSource,
    /// Attribute key table.
    pub keys: KeyTable,
    /// Features, sorted by id. (The scene store writes them apart from the rest of the layer, in chunks it
    /// decodes in parallel.)
    #[serde(skip)]
    pub features: Vec<Feature>,
    /// The graph of a network layer: each edge's geometry is one feature of this layer.
    pub network: Option<Network>,
    /// The height grid of a terrain layer.
    pub terrain: Option<Terrain>,
    /// Import report.
    pub report: LayerReport,
    /// The full model of a utility network layer (EPANET, pandapower), for simulation.
    pub utility: Option<Box<crate::sim::utilities::UtilityModel>>,
    #[serde(skip)]
    index: OnceLock<LayerIndex>,
}

impl Clone for Layer {
    fn clone(&self) -> Self {
        Layer {
            name: self.name.clone(),
            kind: self.kind,
            source: self.source.clone(),
            keys: self.keys.clone(),
            features: self.features.clone(),
            network: self.network.clone(),
            terrain: self.terrain.clone(),
            report: self.report.clone(),
            utility: self.utility.clone(),
            index: OnceLock::new(),
        }
    }
}

impl Layer {
    /// An empty layer.
    pub fn new(name: impl Into<String>, kind: LayerKind, source: LayerSource) -> Self {
        Layer {
            name: name.into(),
            kind,
            source,
            keys: KeyTable::default(),
            features: Vec::new(),
            network: None,
            terrain: None,
            report: LayerReport::default(),
            utility: None,
            index: OnceLock::new(),
        }
    }

    /// The R-tree over this layer's features, bulk-loaded on first use.
    pub fn index(&self) -> &LayerIndex {
        self.index.get_or_init(|| LayerIndex::build(&self.features))
    }

    /// Drops the spatial index (after features changed).
    pub(crate) fn invalidate_index(&mut self) {
        self.index = OnceLock::new();
    }

    /// The feature with `id`, if it is in this layer.
    pub fn feature(&self, id: FeatureId) -> Option<&Feature> {
        self.features
            .binary_search_by_key(&id, |f| f.id)
            .ok()
            .map(|i| &self.features[i])
    }

    /// The value of attribute `key` on `feature`.
    pub fn attribute<'a>(&self, feature: &'a Feature, key: &str) -> Option<ValueRef<'a>> {
        feature.attributes.get(self.keys.get(key)?)
    }

    /// Attributes of `feature` as `(name, value)` pairs, sorted by name.
    pub fn named_attributes<'a>(&'a self, feature: &'a Feature) -> Vec<(&'a str, ValueRef<'a>)> {
        let mut v: Vec<_> = feature
            .attributes
            .iter()
            .map(|(k, val)| (self.keys.name(k), val))
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Adds a feature with a draft id (its index); attributes given by name. Returns the draft id.
    /// [`crate::Scene::add_layer`] turns draft ids into scene ids.
    pub fn push_feature(
        &mut self,
        geometry: geo_types::Geometry<f64>,
        attributes: impl IntoIterator<Item = (impl AsRef<str>, Value)>,
        building: Option<super::building::Building>,
    ) -> FeatureId {
        let attrs: Vec<_> = attributes
            .into_iter()
            .map(|(k, v)| (self.keys.intern(k.as_ref()), v))
            .collect();
        self.push_feature_keyed(geometry, Attributes::new(attrs), building)
    }

    /// Adds a feature whose attribute keys are already interned in [`Layer::keys`] (as importers prepare them
    /// on several threads). Returns the draft id.
    pub fn push_feature_keyed(
        &mut self,
        geometry: geo_types::Geometry<f64>,
        attributes: Attributes,
        building: Option<super::building::Building>,
    ) -> FeatureId {
        debug_assert!(attributes.check(self.keys.names().len()).is_ok());
        let id = FeatureId(self.features.len() as u64);
        self.features.push(Feature {
            id,
            geometry,
            attributes,
            building: building.map(Box::new),
        });
        id
    }

    /// Bounding box `[min_x, min_y, max_x, max_y]` of all features and the terrain, local frame.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut acc: Option<[f64; 4]> = self.terrain.as_ref().map(Terrain::extent);
        for b in self.features.iter().filter_map(Feature::bbox) {
            acc = Some(match acc {
                None => b,
                Some(a) => [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ],
            });
        }
        acc
    }

    pub(crate) fn after_load(&mut self) {
        self.keys.after_load();
    }
}
