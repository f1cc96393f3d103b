//! OpenStreetMap PBF through the `osmpbf` reader, in three streaming passes:
//! 1. relations: multipolygons of buildings and land use, and the ways they need;
//! 2. ways: buildings, highways, power lines, pipelines, waterways, railways, land use, and the nodes they need;
//! 3. nodes: coordinates of exactly those nodes.
//!
//! Each pass decodes a batch of blobs at a time on all cores and picks what it needs from each block there; the
//! picks are then taken in file order, so the result does not depend on the thread count.
//!
//! Linear features become network layers: each way is split at nodes it shares with other ways of the same
//! network (junctions) and at its ends; each piece is one feature and one edge between OSM-node-keyed graph nodes.
//! Coordinates stay WGS 84 (EPSG:4326) until the scene transforms them.
//!
//! # Glossary
//! - **way**: an ordered list of node references with tags; closed when its first and last nodes are the same.
//! - **multipolygon**: a relation whose `outer`/`inner` member ways join into rings.
//! - **segment**: the piece of a way between two junctions, one network edge.

use crate::attrs::edge_props;
use crate::{ImportError, ImportOptions, LayerBuilder};
use citytwin_engine::geometry::{clean_geometry, polygon_from_rings, Cleaned};
use citytwin_engine::{
    Layer, LayerKind, LayerSource, NetworkBuilder, NetworkKind, NodeKind, Value,
};
use geo::{Contains, Distance, Euclidean};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use indicatif::ProgressBar;
use osmpbf::{BlobDecode, BlobReader, Element, PrimitiveBlock, RelMemberType};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::io::BufReader;
use std::path::Path;

const MISSING_NODES: &str = "missing nodes (outside the extract)";

/// What a way or relation is, for citytwin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Class {
    Building,
    Highway,
    Power,
    Pipeline,
    Waterway,
    Railway,
    Landuse,
}

impl Class {
    fn layer_name(self) -> &'static str {
        match self {
            Class::Building => "buildings",
            Class::Highway => "roads",
            Class::Power => "power",
            Class::Pipeline => "pipelines",
            Class::Waterway => "waterways",
            Class::Railway => "railways",
            Class::Landuse => "landuse",
        }
    }
}

type Tags = Vec<(String, String)>;

fn tag<'a>(tags: &'a Tags, k: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

fn classify(tags: &Tags) -> Option<Class> {
    classify_by(|k| tag(tags, k))
}

/// [`classify`] over tags looked up by `t` (borrowed from a block, before any are copied).
fn classify_by<'a>(t: impl Fn(&str) -> Option<&'a str>) -> Option<Class> {
    if t("building").is_some_and(|v| v != "no") || t("building:part").is_some_and(|v| v != "no") {
        Some(Class::Building)
    } else if t("highway").is_some() {
        Some(Class::Highway)
    } else if matches!(t("power"), Some("line" | "minor_line" | "cable")) {
        Some(Class::Power)
    } else if t("man_made") == Some("pipeline") {
        Some(Class::Pipeline)
    } else if matches!(
        t("waterway"),
        Some("river" | "stream" | "canal" | "drain" | "ditch" | "brook")
    ) {
        Some(Class::Waterway)
    } else if matches!(
        t("railway"),
        Some("rail" | "tram" | "subway" | "light_rail" | "narrow_gauge")
    ) {
        Some(Class::Railway)
    } else if t("landuse").is_some() {
        Some(Class::Landuse)
    } else {
        None
    }
}

struct Way {
    id: i64,
    refs: Vec<i64>,
    tags: Tags,
}

struct Relation {
    id: i64,
    class: Class,
    tags: Tags,
    members: Vec<(i64, bool)>, // (way id, is inner)
}

fn tags_of<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    it.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// Files up to this size are decoded once and their blocks kept for the three passes (a city extract: decoded,
/// its node ids, coordinates and way references take several times the file's size, here up to about 100 MB);
/// larger ones are streamed and decoded in each pass, holding a batch of blocks at a time.
const KEEP_DECODED_UP_TO: u64 = 16 << 20;

/// Where the passes get their blocks.
enum Blocks {
    /// Every block of the file, decoded, in file order.
    Kept(Vec<PrimitiveBlock>),
    /// Read and decoded anew by each pass.
    Streamed,
}

/// A reader of the file's blobs, its progress shown as pass `name`.
fn blobs(
    path: &Path,
    progress: &ProgressBar,
    name: &str,
) -> Result<BlobReader<BufReader<indicatif::ProgressBarIter<std::fs::File>>>, ImportError> {
    let f = std::fs::File::open(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    progress.set_length(f.metadata().map(|m| m.len()).unwrap_or(0));
    progress.set_position(0);
    progress.set_message(format!("OSM {name}"));
    Ok(BlobReader::new(BufReader::with_capacity(
        1 << 20,
        progress.wrap_read(f),
    )))
}

/// Reads blobs a batch at a time, decodes each batch on all cores and hands `each` the data blocks' results of
/// `pick` in file order.
fn decode_all<T: Send>(
    path: &Path,
    progress: &ProgressBar,
    name: &str,
    pick: impl Fn(PrimitiveBlock) -> T + Sync,
    mut each: impl FnMut(T),
) -> Result<(), ImportError> {
    use rayon::prelude::*;
    let mut reader = blobs(path, progress, name)?;
    // A blob holds at most 8,000 elements by convention (32 MB decoded by the format's limit): a few per core
    // keep both cores busy without holding much of the file.
    let batch = 4 * rayon::current_num_threads();
    loop {
        let blobs: Vec<osmpbf::Blob> = reader
            .by_ref()
            .take(batch)
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt(path, e))?;
        if blobs.is_empty() {
            return Ok(());
        }
        let picks: Vec<Result<Option<T>, osmpbf::Error>> = blobs
            .into_par_iter()
            .map(|blob| match blob.decode()? {
                BlobDecode::OsmData(block) => Ok(Some(pick(block))),
                BlobDecode::OsmHeader(_) | BlobDecode::Unknown(_) => Ok(None),
            })
            .collect();
        for p in picks {
            if let Some(t) = p.map_err(|e| corrupt(path, e))? {
                each(t);
            }
        }
    }
}

impl Blocks {
    /// Decodes the blocks of a file up to `keep_up_to` bytes once; a larger file's are left to the passes.
    fn load(path: &Path, progress: &ProgressBar, keep_up_to: u64) -> Result<Blocks, ImportError> {
        let len = std::fs::metadata(path)
            .map_err(|source| ImportError::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        if len > keep_up_to {
            return Ok(Blocks::Streamed);
        }
        let mut kept = Vec::new();
        decode_all(
            path,
            progress,
            "blocks",
            |block| block,
            |block| kept.push(block),
        )?;
        Ok(Blocks::Kept(kept))
    }

    /// One pass: `pick` runs on every block, on all cores; `take` receives the picks in file order.
    fn pass<T: Send>(
        &self,
        path: &Path,
        progress: &ProgressBar,
        name: &str,
        pick: impl Fn(&PrimitiveBlock) -> T + Sync,
        take: impl FnMut(T),
    ) -> Result<(), ImportError> {
        use rayon::prelude::*;
        match self {
            Blocks::Kept(blocks) => {
                progress.set_message(format!("OSM {name}"));
                let picks: Vec<T> = blocks.par_iter().map(&pick).collect();
                picks.into_iter().for_each(take);
                Ok(())
            }
            Blocks::Streamed => decode_all(path, progress, name, |block| pick(&block), take),
        }
    }
}

fn corrupt(path: &Path, e: osmpbf::Error) -> ImportError {
    ImportError::Corrupt {
        path: path.to_owned(),
        format: "OSM PBF".into(),
        detail: e.to_string(),
    }
}

/// Imports an OSM PBF file into one layer per class found (buildings, roads, power, pipelines, waterways,
/// railways, landuse).
///
/// # Errors
/// [`ImportError::Corrupt`] for a truncated or corrupt file, [`ImportError::Io`].
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Vec<Layer>, ImportError> {
    import_keeping(path, opts, progress, KEEP_DECODED_UP_TO)
}

/// [`import`], keeping the decoded blocks of files up to `keep_up_to` bytes.
fn import_keeping(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
    keep_up_to: u64,
) -> Result<Vec<Layer>, ImportError> {
    let blocks = Blocks::load(path, progress, keep_up_to)?;
    // Pass 1: relations.
    let mut relations = Vec::new();
    blocks.pass(
        path,
        progress,
        "relations",
        |block| {
            let mut found = Vec::new();
            for e in block.elements() {
                let Element::Relation(r) = e else {
                    continue;
                };
                let tags = tags_of(r.tags());
                if tag(&tags, "type") != Some("multipolygon") {
                    continue;
                }
                let Some(class @ (Class::Building | Class::Landuse)) = classify(&tags) else {
                    continue;
                };
                let members = r
                    .members()
                    .filter(|m| m.member_type == RelMemberType::Way)
                    .map(|m| (m.member_id, m.role().is_ok_and(|role| role == "inner")))
                    .collect();
                found.push(Relation {
                    id: r.id(),
                    class,
                    tags,
                    members,
                });
            }
            found
        },
        |found| relations.extend(found),
    )?;
    let member_ways: HashSet<i64> = relations
        .iter()
        .flat_map(|r| r.members.iter().map(|m| m.0))
        .collect();

    // Pass 2: ways.
    let mut by_class: HashMap<Class, Vec<Way>> = HashMap::default();
    let mut members: HashMap<i64, Vec<i64>> = HashMap::default();
    blocks.pass(
        path,
        progress,
        "ways",
        |block| {
            let mut found = Vec::new();
            let mut borrowed: Vec<(&str, &str)> = Vec::new();
            for e in block.elements() {
                let Element::Way(w) = e else {
                    continue;
                };
                borrowed.clear();
                borrowed.extend(w.tags());
                let class =
                    classify_by(|k| borrowed.iter().find(|(key, _)| *key == k).map(|t| t.1));
                let is_member = member_ways.contains(&w.id());
                if class.is_none() && !is_member {
                    continue;
                }
                let way = Way {
                    id: w.id(),
                    refs: w.refs().collect(),
                    tags: tags_of(borrowed.iter().copied()),
                };
                found.push((class, is_member, way));
            }
            found
        },
        |found| {
            for (class, is_member, way) in found {
                if is_member {
                    members.insert(way.id, way.refs.clone());
                }
                if let Some(c) = class {
                    by_class.entry(c).or_default().push(way);
                }
            }
        },
    )?;
    let needed: HashSet<i64> = by_class
        .values()
        .flatten()
        .flat_map(|w| w.refs.iter().copied())
        .chain(members.values().flatten().copied())
        .collect();

    // Pass 3: node coordinates.
    let mut coords: HashMap<i64, Coord<f64>> =
        HashMap::with_capacity_and_hasher(needed.len(), Default::default());
    let mut node_kinds: HashMap<i64, NodeKind> = HashMap::default();
    let kind_of = |k: &str, v: &str| match (k, v) {
        ("highway", "traffic_signals") => Some(NodeKind::TrafficSignals),
        ("power", "tower" | "pole") => Some(NodeKind::Tower),
        ("power", "substation" | "transformer") => Some(NodeKind::Substation),
        _ => None,
    };
    blocks.pass(
        path,
        progress,
        "nodes",
        |block| {
            let mut found = Vec::new();
            for e in block.elements() {
                let node = match e {
                    Element::Node(n) if needed.contains(&n.id()) => (
                        n.id(),
                        Coord {
                            x: n.lon(),
                            y: n.lat(),
                        },
                        n.tags().find_map(|(k, v)| kind_of(k, v)),
                    ),
                    Element::DenseNode(n) if needed.contains(&n.id()) => (
                        n.id(),
                        Coord {
                            x: n.lon(),
                            y: n.lat(),
                        },
                        n.tags().find_map(|(k, v)| kind_of(k, v)),
                    ),
                    _ => continue,
                };
                found.push(node);
            }
            found
        },
        |found| {
            for (id, c, kind) in found {
                coords.insert(id, c);
                if let Some(k) = kind {
                    node_kinds.insert(id, k);
                }
            }
        },
    )?;
    progress.set_message("OSM layers");

    let source = |class: Class| LayerSource {
        path: path.display().to_string(),
        format: format!("OSM PBF ({})", class.layer_name()),
        crs: "EPSG:4326".into(),
    };
    let name = |class: Class| match &opts.layer_name {
        Some(prefix) => format!("{prefix}_{}", class.layer_name()),
        None => class.layer_name().to_owned(),
    };

    let mut layers = Vec::new();
    for class in [Class::Building, Class::Landuse] {
        let ways = by_class.remove(&class).unwrap_or_default();
        let rels: Vec<&Relation> = relations.iter().filter(|r| r.class == class).collect();
        if ways.is_empty() && rels.is_empty() {
            continue;
        }
        let kind = if class == Class::Building {
            LayerKind::Buildings
        } else {
            LayerKind::Framework
        };
        let mut b = LayerBuilder::new(
            name(class),
            opts.kind.unwrap_or(kind),
            source(class),
            None,
            opts,
        );
        for w in &ways {
            let mut attrs = attributes(&w.tags, "way", w.id);
            let Some(ring) = ring_coords(&w.refs, &coords) else {
                b.count_source_object();
                b.skip(MISSING_NODES);
                continue;
            };
            b.count_source_object();
            match polygon_from_rings(&[ring]) {
                Ok(c) => b.add_clean(c, std::mem::take(&mut attrs)),
                Err(reason) => b.skip(reason.as_str()),
            }
        }
        for r in rels {
            b.count_source_object();
            match multipolygon(r, &members, &coords) {
                Ok(c) => b.add_clean(c, attributes(&r.tags, "relation", r.id)),
                Err(reason) => b.skip(reason),
            }
        }
        layers.push(b.finish());
    }
    for (class, kind) in [
        (Class::Highway, NetworkKind::Road),
        (Class::Power, NetworkKind::Power),
        (Class::Pipeline, NetworkKind::Other),
        (Class::Waterway, NetworkKind::Waterway),
        (Class::Railway, NetworkKind::Other),
    ] {
        let Some(ways) = by_class.remove(&class) else {
            continue;
        };
        let kind = if class == Class::Pipeline {
            pipeline_kind(&ways)
        } else {
            kind
        };
        layers.push(network_layer(
            name(class),
            class,
            kind,
            &ways,
            (&coords, &node_kinds),
            source(class),
            opts,
        ));
    }
    Ok(layers)
}

/// The network kind of a pipeline layer: water or gas when all its pipelines carry that.
fn pipeline_kind(ways: &[Way]) -> NetworkKind {
    let subst: HashSet<&str> = ways
        .iter()
        .filter_map(|w| tag(&w.tags, "substance"))
        .collect();
    match subst.into_iter().collect::<Vec<_>>().as_slice() {
        ["water"] => NetworkKind::Water,
        ["gas"] => NetworkKind::Gas,
        _ => NetworkKind::Other,
    }
}

fn attributes(tags: &Tags, osm_type: &str, id: i64) -> Vec<(String, Value)> {
    let mut a: Vec<(String, Value)> = tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::Text(v.clone())))
        .collect();
    a.push(("osm_type".into(), Value::Text(osm_type.into())));
    a.push(("osm_id".into(), Value::Int(id)));
    a
}

fn ring_coords(refs: &[i64], coords: &HashMap<i64, Coord<f64>>) -> Option<Vec<Coord<f64>>> {
    refs.iter().map(|r| coords.get(r).copied()).collect()
}

/// Joins member ways into closed rings of node ids.
fn join_rings(mut ways: Vec<Vec<i64>>) -> Result<Vec<Vec<i64>>, &'static str> {
    let mut rings = Vec::new();
    while let Some(mut ring) = ways.pop() {
        while ring.first() != ring.last() || ring.len() < 2 {
            let end = *ring.last().ok_or("empty member way")?;
            let Some(i) = ways
                .iter()
                .position(|w| w.first() == Some(&end) || w.last() == Some(&end))
            else {
                return Err("unclosed multipolygon ring");
            };
            let mut next = ways.swap_remove(i);
            if next.first() != Some(&end) {
                next.reverse();
            }
            ring.extend_from_slice(&next[1..]);
        }
        rings.push(ring);
    }
    Ok(rings)
}

fn multipolygon(
    r: &Relation,
    members: &HashMap<i64, Vec<i64>>,
    coords: &HashMap<i64, Coord<f64>>,
) -> Result<Cleaned, &'static str> {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    for (id, is_inner) in &r.members {
        let refs = members.get(id).ok_or(MISSING_NODES)?;
        if *is_inner {
            inner.push(refs.clone())
        } else {
            outer.push(refs.clone())
        }
    }
    let to_coords = |rings: Vec<Vec<i64>>| -> Result<Vec<Vec<Coord<f64>>>, &'static str> {
        rings
            .iter()
            .map(|r| ring_coords(r, coords).ok_or(MISSING_NODES))
            .collect()
    };
    let outers = to_coords(join_rings(outer)?)?;
    let inners = to_coords(join_rings(inner)?)?;
    if outers.is_empty() {
        return Err("multipolygon without outer ring");
    }
    // Each inner ring goes to the outer ring that contains it.
    let shells: Vec<Polygon<f64>> = outers
        .iter()
        .map(|o| Polygon::new(LineString::new(o.clone()), vec![]))
        .collect();
    let mut polys: Vec<Vec<Vec<Coord<f64>>>> = outers.into_iter().map(|o| vec![o]).collect();
    for h in inners {
        let p = Point::from(h[0]);
        let owner = shells
            .iter()
            .position(|s| s.contains(&p))
            .unwrap_or_else(|| {
                (0..shells.len())
                    .min_by(|&a, &b| {
                        Euclidean
                            .distance(&p, &shells[a])
                            .total_cmp(&Euclidean.distance(&p, &shells[b]))
                    })
                    .unwrap_or(0)
            });
        polys[owner].push(h);
    }
    let mut parts = Vec::new();
    let mut repairs = Vec::new();
    for rings in &polys {
        let c = polygon_from_rings(rings).map_err(|e| e.as_str())?;
        repairs.extend(c.repairs);
        if let Geometry::Polygon(p) = c.geometry {
            parts.push(p);
        }
    }
    let geometry = if parts.len() == 1 {
        Geometry::Polygon(parts.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon::new(parts))
    };
    let mut c = clean_geometry(geometry).map_err(|e| e.as_str())?;
    c.repairs.extend(repairs);
    Ok(c)
}

/// A network layer: each way split at junctions (nodes shared with other ways of the layer) and its ends.
fn network_layer(
    name: String,
    class: Class,
    kind: NetworkKind,
    ways: &[Way],
    (coords, node_kinds): (&HashMap<i64, Coord<f64>>, &HashMap<i64, NodeKind>),
    source: LayerSource,
    opts: &ImportOptions,
) -> Layer {
    let mut layer = Layer::new(name, opts.kind.unwrap_or(LayerKind::Infrastructure), source);
    let mut net = NetworkBuilder::new(kind, 1e-7);
    // How many times each node is used by the layer's ways (a node used twice by one way, a loop, counts twice).
    let mut uses: HashMap<i64, u32> = HashMap::default();
    for w in ways {
        for r in &w.refs {
            *uses.entry(*r).or_default() += 1;
        }
    }
    let class_key: &[&str] = match class {
        Class::Highway => &["highway"],
        Class::Power => &["power"],
        Class::Pipeline => &["substance", "man_made"],
        Class::Waterway => &["waterway"],
        _ => &["railway"],
    };
    for w in ways {
        layer.report.source_objects += 1;
        if class == Class::Highway && tag(&w.tags, "area") == Some("yes") {
            layer.report.skip("highway area (not a routable line)");
            continue;
        }
        if w.refs.len() < 2 {
            layer.report.skip("fewer than 2 nodes");
            continue;
        }
        // Runs of consecutive nodes present in the file: a way cut by the extract boundary keeps its inside parts.
        let mut runs: Vec<Vec<(i64, Coord<f64>)>> = vec![Vec::new()];
        for r in &w.refs {
            match (coords.get(r), runs.last_mut()) {
                (Some(c), Some(run)) => run.push((*r, *c)),
                _ => runs.push(Vec::new()),
            }
        }
        runs.retain(|run| run.len() >= 2);
        if runs.is_empty() {
            layer.report.skip(MISSING_NODES);
            continue;
        }
        if runs.iter().map(Vec::len).sum::<usize>() < w.refs.len() {
            layer
                .report
                .repair("clipped at the extract boundary (missing nodes)");
        }
        let base = attributes(&w.tags, "way", w.id);
        let props = edge_props(kind, &base, class_key);
        let mut segment = 0;
        for run in &runs {
            let mut start = 0;
            for i in 1..run.len() {
                let junction = i == run.len() - 1 || uses.get(&run[i].0).copied().unwrap_or(0) > 1;
                if !junction {
                    continue;
                }
                let pts: Vec<Coord<f64>> = run[start..=i].iter().map(|(_, c)| *c).collect();
                match clean_geometry(Geometry::LineString(LineString::new(pts))) {
                    Err(reason) => layer.report.skip(format!("degenerate segment ({reason})")),
                    Ok(c) => {
                        for r in c.repairs {
                            layer.report.repair(r);
                        }
                        let mut attrs = base.clone();
                        attrs.push(("segment".into(), Value::Int(segment)));
                        let (a, b) = (run[start], run[i]);
                        let from = net.node_by_source_id(a.0, [a.1.x, a.1.y]);
                        let to = net.node_by_source_id(b.0, [b.1.x, b.1.y]);
                        for (osm, n) in [(a.0, from), (b.0, to)] {
                            if let Some(k) = node_kinds.get(&osm) {
                                net.node_mut(n).kind = *k;
                            }
                        }
                        let fid = layer.push_feature(c.geometry, attrs, None);
                        net.add_edge(from, to, fid, 0.0, props.clone());
                        segment += 1;
                    }
                }
                start = i;
            }
        }
    }
    layer.network = Some(net.finish());
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_and_streamed_blocks_give_the_same_layers() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/osm/pyrosm_test_kotka.osm.pbf");
        assert!(path.exists(), "test data missing: {}", path.display());
        let opts = ImportOptions::default();
        let pb = ProgressBar::hidden();
        let kept = import_keeping(&path, &opts, &pb, u64::MAX).expect("imports");
        let streamed = import_keeping(&path, &opts, &pb, 0).expect("imports");
        assert!(kept.len() >= 3, "{} layers", kept.len());
        assert_eq!(kept.len(), streamed.len());
        for (k, s) in kept.iter().zip(&streamed) {
            assert_eq!(k.name, s.name);
            assert!(!k.features.is_empty(), "{}", k.name);
            assert_eq!(k.features, s.features, "{}", k.name);
            assert_eq!(k.report, s.report, "{}", k.name);
            let shape = |l: &Layer| l.network.as_ref().map(|n| (n.nodes.len(), n.edges.len()));
            assert_eq!(shape(k), shape(s), "{}", k.name);
        }
    }

    #[test]
    fn rings_join_in_any_direction() {
        let rings = join_rings(vec![vec![1, 2, 3], vec![5, 4, 3], vec![5, 6, 1]]).expect("closes");
        assert_eq!(rings.len(), 1);
        assert_eq!(rings[0].first(), rings[0].last());
        assert_eq!(rings[0].len(), 7);
        assert_eq!(
            join_rings(vec![vec![1, 2, 3], vec![3, 4]]),
            Err("unclosed multipolygon ring")
        );
    }

    #[test]
    fn classes() {
        let t = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Tags>()
        };
        assert_eq!(classify(&t(&[("building", "yes")])), Some(Class::Building));
        assert_eq!(
            classify(&t(&[("building", "no"), ("landuse", "grass")])),
            Some(Class::Landuse)
        );
        assert_eq!(
            classify(&t(&[("highway", "residential")])),
            Some(Class::Highway)
        );
        assert_eq!(classify(&t(&[("power", "minor_line")])), Some(Class::Power));
        assert_eq!(classify(&t(&[("power", "tower")])), None);
        assert_eq!(
            classify(&t(&[("man_made", "pipeline")])),
            Some(Class::Pipeline)
        );
    }
}
