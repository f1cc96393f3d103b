//! Builds a layer feature by feature: validation and repair, building heights, and for line layers of
//! infrastructure a network noded at shared endpoints.

use crate::attrs::{building_from_attrs, edge_props};
use crate::classify::class_keys;
use crate::ImportOptions;
use citytwin_engine::crs::{describe, CrsKind};
use citytwin_engine::geometry::{clean_geometry, Cleaned, SkipReason};
use citytwin_engine::{
    Building, Layer, LayerKind, LayerSource, NetworkBuilder, NetworkKind, Value,
};
use geo_types::{Geometry, LineString};

/// Endpoint snapping in projected units (metres): lines noded within a centimetre share a node.
const SNAP_PROJECTED: f64 = 0.01;
/// The same for geographic coordinates (degrees), about a centimetre.
const SNAP_GEOGRAPHIC: f64 = 1e-7;

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
        let Cleaned { geometry, repairs } = cleaned;
        let polygonal = matches!(geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_));
        if self.layer.kind == LayerKind::Buildings && !polygonal {
            self.skip(SkipReason::WrongType.as_str());
            return;
        }
        for r in repairs {
            self.layer.report.repair(r);
        }
        let building = match known {
            Some(b) => Some(b),
            None => (self.layer.kind == LayerKind::Buildings)
                .then(|| building_from_attrs(&attrs, &self.opts)),
        };
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
