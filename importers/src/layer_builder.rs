//! Builds a layer feature by feature: validation and repair, building heights, and for line layers of
//! infrastructure a network noded at shared endpoints.

use crate::attrs::{building_from_attrs, edge_props};
use crate::classify::class_keys;
use crate::ImportOptions;
use citytwin_engine::crs::{describe, CrsKind};
use citytwin_engine::geometry::{clean_geometry, Cleaned, SkipReason};
use citytwin_engine::{
    Attributes, Building, KeyIndex, Layer, LayerKind, LayerSource, NetworkBuilder, NetworkKind,
    Value,
};
use geo_types::{Geometry, LineString};

/// Endpoint snapping in projected units (metres): lines noded within a centimetre share a node.
const SNAP_PROJECTED: f64 = 0.01;
/// The same for geographic coordinates (degrees), about a centimetre.
const SNAP_GEOGRAPHIC: f64 = 1e-7;

/// A feature made ready to add ([`LayerBuilder::prepare`]).
#[derive(Debug)]
pub struct Ready(ReadyKind);

impl Ready {
    /// A feature to skip, for `reason`.
    pub fn skip(reason: &'static str) -> Self {
        Ready(ReadyKind::Skip(reason))
    }
}

#[derive(Debug)]
enum ReadyKind {
    /// Skipped, for this reason.
    Skip(&'static str),
    /// Every key known to the layer: added as it is.
    Keyed {
        cleaned: Cleaned,
        attrs: Attributes,
        building: Option<Building>,
    },
    /// New keys, or a network line: keys interned and edges made when added.
    Named {
        cleaned: Cleaned,
        attrs: Vec<(String, Value)>,
        building: Option<Building>,
    },
}

fn owned<K: AsRef<str>>((k, v): (K, Value)) -> (String, Value) {
    (k.as_ref().to_owned(), v)
}

/// Accumulates the features of one layer.
#[derive(Debug)]
pub struct LayerBuilder {
    layer: Layer,
    opts: ImportOptions,
    network: Option<NetworkBuilder>,
}

impl LayerBuilder {
    /// A builder for a layer `name` of `kind` from `source`. With `network`, line features also become edges of
    /// a graph of that kind, noded where endpoints coincide.
    pub fn new(
        name: impl Into<String>,
        kind: LayerKind,
        source: LayerSource,
        network: Option<NetworkKind>,
        opts: &ImportOptions,
    ) -> Self {
        let snap = match describe(&source.crs) {
            Ok(i) if i.kind == CrsKind::Geographic => SNAP_GEOGRAPHIC,
            _ => SNAP_PROJECTED,
        };
        LayerBuilder {
            layer: Layer::new(name, kind, source),
            opts: opts.clone(),
            network: network.map(|k| NetworkBuilder::new(k, snap)),
        }
    }

    /// Reserves room for about `features` more features (a hint: nothing happens when it cannot be had).
    pub fn reserve(&mut self, features: usize) {
        let _ = self.layer.features.try_reserve(features);
    }

    /// Counts one object read from the source, to be added or skipped.
    pub fn count_source_object(&mut self) {
        self.layer.report.source_objects += 1;
    }

    /// Counts a skipped object with `reason`.
    pub fn skip(&mut self, reason: &str) {
        self.layer.report.skip(reason);
    }

    /// Adds an object: validates its geometry (skipping or repairing it, counted), derives building properties
    /// for a buildings layer, and adds network edges for lines when building a network.
    pub fn add(&mut self, geometry: Option<Geometry<f64>>, attrs: Vec<(String, Value)>) {
        self.count_source_object();
        let Some(g) = geometry else {
            self.skip(SkipReason::Empty.as_str());
            return;
        };
        match clean_geometry(g) {
            Err(reason) => self.skip(reason.as_str()),
            Ok(c) => self.add_clean(c, attrs),
        }
    }

    /// Adds an already validated geometry (from [`citytwin_engine::geometry::polygon_from_rings`]).
    pub fn add_clean(&mut self, cleaned: Cleaned, attrs: Vec<(String, Value)>) {
        self.add_with_building(cleaned, attrs, None);
    }

    /// Adds an already validated geometry with building properties known from elsewhere (3D geometry); without
    /// them, a buildings layer derives them from the attributes.
    pub fn add_with_building(
        &mut self,
        cleaned: Cleaned,
        attrs: Vec<(String, Value)>,
        known: Option<Building>,
    ) {
        let ready = self.prepare(cleaned, attrs, known);
        self.add_ready(ready);
    }

    /// Makes a validated feature ready to add, reading the builder only, so that importers do it on several
    /// threads: building properties derived, attribute keys the layer knows resolved, sorted. What is left for
    /// [`LayerBuilder::add_ready`] (in source order, on one thread) is new keys and network edges.
    pub fn prepare<K: AsRef<str>>(
        &self,
        cleaned: Cleaned,
        attrs: Vec<(K, Value)>,
        known: Option<Building>,
    ) -> Ready {
        let polygonal = matches!(
            cleaned.geometry,
            Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        );
        if self.layer.kind == LayerKind::Buildings && !polygonal {
            return Ready(ReadyKind::Skip(SkipReason::WrongType.as_str()));
        }
        let building = match known {
            Some(b) => Some(b),
            None => (self.layer.kind == LayerKind::Buildings)
                .then(|| building_from_attrs(&attrs, &self.opts)),
        };
        let attrs = if self.network.is_some() {
            Err(attrs.into_iter().map(owned).collect())
        } else {
            self.resolve_keys(attrs)
        };
        Ready(match attrs {
            Ok(attrs) => ReadyKind::Keyed {
                cleaned,
                attrs,
                building,
            },
            Err(attrs) => ReadyKind::Named {
                cleaned,
                attrs,
                building,
            },
        })
    }

    /// The attributes keyed by the layer's key table, sorted; by name (in source order) when a key is new.
    fn resolve_keys<K: AsRef<str>>(
        &self,
        attrs: Vec<(K, Value)>,
    ) -> Result<Attributes, Vec<(String, Value)>> {
        let mut keyed: Vec<(KeyIndex, Value)> = Vec::with_capacity(attrs.len());
        let mut rest = attrs.into_iter();
        while let Some((k, v)) = rest.next() {
            match self.layer.keys.get(k.as_ref()) {
                Some(i) => keyed.push((i, v)),
                None => {
                    let back = keyed
                        .into_iter()
                        .map(|(i, v)| (self.layer.keys.name(i).to_owned(), v));
                    return Err(back.chain([owned((k, v))]).chain(rest.map(owned)).collect());
                }
            }
        }
        Ok(Attributes::new(keyed))
    }

    /// Adds a feature made ready by [`LayerBuilder::prepare`].
    pub fn add_ready(&mut self, ready: Ready) {
        match ready.0 {
            ReadyKind::Skip(reason) => self.skip(reason),
            ReadyKind::Keyed {
                cleaned,
                attrs,
                building,
            } => {
                for r in cleaned.repairs {
                    self.layer.report.repair(r);
                }
                self.layer
                    .push_feature_keyed(cleaned.geometry, attrs, building);
            }
            ReadyKind::Named {
                cleaned,
                attrs,
                building,
            } => self.add_named(cleaned, attrs, building),
        }
    }

    fn add_named(
        &mut self,
        cleaned: Cleaned,
        attrs: Vec<(String, Value)>,
        building: Option<Building>,
    ) {
        let Cleaned { geometry, repairs } = cleaned;
        for r in repairs {
            self.layer.report.repair(r);
        }
        match (&mut self.network, geometry) {
            (Some(_), Geometry::MultiLineString(mls)) => {
                for (i, ls) in mls.0.into_iter().enumerate() {
                    let mut a = attrs.clone();
                    a.push(("part".into(), Value::Int(i as i64)));
                    self.push_edge(ls, a);
                }
            }
            (Some(_), Geometry::LineString(ls)) => self.push_edge(ls, attrs),
            (_, g) => {
                self.layer.push_feature(g, attrs, building);
            }
        }
    }

    fn push_edge(&mut self, ls: LineString<f64>, attrs: Vec<(String, Value)>) {
        let Some(net) = &mut self.network else { return };
        let (Some(a), Some(b)) = (ls.0.first().copied(), ls.0.last().copied()) else {
            return;
        };
        let props = edge_props(net.kind(), &attrs, class_keys(net.kind()));
        let from = net.node_at([a.x, a.y]);
        let to = net.node_at([b.x, b.y]);
        let fid = self
            .layer
            .push_feature(Geometry::LineString(ls), attrs, None);
        if let Some(net) = &mut self.network {
            net.add_edge(from, to, fid, 0.0, props);
        }
    }

    /// The finished layer.
    pub fn finish(mut self) -> Layer {
        if let Some(n) = self.network.take() {
            self.layer.network = Some(n.finish());
        }
        self.layer
    }
}
