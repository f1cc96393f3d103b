//! SUMO interop: road networks (`.net.xml`) as a road layer, and demand (`trips.xml`, `rou.xml`, CSV trip lists)
//! as trips on it, so a citytwin run can be set side by side with SUMO's on the same network and demand.
//!
//! Network: every edge of function `normal` becomes one feature and one oneway edge (SUMO's opposite direction
//! is an edge of its own), keeping its id in the attribute `sumo_id`; lanes open to passenger cars, the lane
//! speed and the lane length (not the polyline's) carry over, and the network's connections become its allowed
//! turns, each with the length and speed of its way across the junction (SUMO's internal lanes, chained), so
//! routes cross junctions as SUMO's microscopic model drives them. Internal edges are not features. Coordinates are
//! SUMO's network coordinates minus `netOffset`, in the CRS of `projParameter` (usually UTM); `--src-crs`
//! overrides it, and is needed when the network has no projection (`projParameter="!"`).
//!
//! Demand: `<trip id depart from to>`, `<vehicle id depart>` with a `<route edges>` child or a `route` reference
//! to a `<route id edges>`; or CSV with a header `id,depart,from,to` and an optional `route` column of
//! space-separated edge ids. Edges are SUMO edge ids (on a SUMO layer) or feature ids (on other road layers;
//! a trailing `-` means the edge against its digitised direction). Errors name the file and the line.
//!
//! # Glossary
//! - **edge** (SUMO): a one-directional road between two junctions, with one or more lanes.
//! - **internal edge**: a lane across a junction (id starting with `:`).
//! - **connection**: an allowed movement from one edge (lane) to the next.

use crate::{ImportError, ImportOptions};
use citytwin_engine::sim::TripSpec;
use citytwin_engine::{
    EdgeId, EdgeProps, Layer, LayerKind, LayerSource, LinkId, Modes, NetworkBuilder, NetworkKind,
    NodeKind, RoadClass, RoadProps, Turn, Value, ValueRef,
};
use geo_types::{Coord, Geometry, LineString};
use indicatif::ProgressBar;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

fn line_at(text: &str, pos: u64) -> usize {
    let end = (pos as usize).min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn corrupt(path: &Path, format: &str, line: usize, detail: impl std::fmt::Display) -> ImportError {
    ImportError::Corrupt {
        path: path.to_owned(),
        format: format.into(),
        detail: format!("line {line}: {detail}"),
    }
}

/// The attributes of an element, unescaped.
fn attrs(e: &BytesStart<'_>) -> Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let k = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let v = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
        m.insert(k, v);
    }
    Ok(m)
}

/// Walks the start (and empty) elements of an XML text: `f(name, attributes, line, depth)`.
fn walk(
    text: &str,
    path: &Path,
    format: &str,
    mut f: impl FnMut(&str, &HashMap<String, String>, usize) -> Result<(), String>,
) -> Result<(), ImportError> {
    let mut r = Reader::from_str(text);
    loop {
        let pos = r.buffer_position();
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let line = line_at(text, pos);
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let a = attrs(&e).map_err(|d| corrupt(path, format, line, d))?;
                f(&name, &a, line).map_err(|d| corrupt(path, format, line, d))?;
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                let line = line_at(text, r.error_position());
                return Err(corrupt(path, format, line, e));
            }
        }
    }
}

fn num(a: &HashMap<String, String>, key: &str) -> Result<Option<f64>, String> {
    match a.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{key}=\"{v}\" is not a number")),
    }
}

fn shape(s: &str) -> Result<Vec<Coord<f64>>, String> {
    s.split_whitespace()
        .map(|p| {
            let mut it = p.split(',');
            let x = it.next().and_then(|v| v.parse::<f64>().ok());
            let y = it.next().and_then(|v| v.parse::<f64>().ok());
            match (x, y) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok(Coord { x, y }),
                _ => Err(format!("shape point `{p}` is not x,y")),
            }
        })
        .collect()
}

/// Whether a lane admits passenger cars, from its `allow` / `disallow` lists (SUMO: both absent = all).
fn lane_allows(a: &HashMap<String, String>, class: &str) -> bool {
    if let Some(allow) = a.get("allow") {
        return allow.split_whitespace().any(|c| c == class || c == "all");
    }
    if let Some(dis) = a.get("disallow") {
        return !dis.split_whitespace().any(|c| c == class || c == "all");
    }
    true
}

struct SumoEdge {
    id: String,
    from: String,
    to: String,
    name: Option<String>,
    kind: Option<String>,
    priority: Option<String>,
    shape: Option<Vec<Coord<f64>>>,
    lanes: Vec<HashMap<String, String>>,
    line: usize,
}

/// The CRS of a SUMO `projParameter`: a PROJ string made a CRS (`+type=crs`), `None` for `!` (no projection).
fn crs_of(proj: &str) -> Option<String> {
    let p = proj.trim();
    if p.is_empty() || p == "!" || p == "-" {
        return None;
    }
    Some(if p.contains("+type=crs") {
        p.to_owned()
    } else {
        format!("{p} +type=crs")
    })
}

/// Imports a SUMO network as a road layer.
///
/// # Errors
/// [`ImportError`] naming the file and line: malformed XML, bad numbers, an edge whose junction is missing, no
/// projection and no `--src-crs`.
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    const FMT: &str = "SUMO network";
    progress.set_message("SUMO network");
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut offset = [0.0f64; 2];
    let mut proj: Option<String> = None;
    let mut junctions: BTreeMap<String, ([f64; 2], String)> = BTreeMap::new();
    let mut edges: Vec<SumoEdge> = Vec::new();
    // Connections: (from, to, fromLane, via); internal lanes: id → (length, speed).
    let mut connections: Vec<(String, String, String, Option<String>)> = Vec::new();
    let mut internal_lanes: HashMap<String, (f64, f64)> = HashMap::new();
    let mut in_normal_edge = false;
    let mut in_internal_edge = false;
    let mut saw_net = false;
    walk(&text, path, FMT, |name, a, line| {
        match name {
            "net" => saw_net = true,
            "location" => {
                if let Some(o) = a.get("netOffset") {
                    let p = shape(o)?;
                    let c = p.first().ok_or("netOffset is empty")?;
                    offset = [c.x, c.y];
                }
                proj = a.get("projParameter").cloned();
            }
            "edge" => {
                let function = a.get("function").map_or("normal", String::as_str);
                let id = a.get("id").cloned().ok_or("an edge without an id")?;
                in_normal_edge = function == "normal" && !id.starts_with(':');
                in_internal_edge = function == "internal";
                if in_normal_edge {
                    edges.push(SumoEdge {
                        from: a
                            .get("from")
                            .cloned()
                            .ok_or(format!("edge {id} has no from"))?,
                        to: a.get("to").cloned().ok_or(format!("edge {id} has no to"))?,
                        name: a.get("name").cloned(),
                        kind: a.get("type").cloned(),
                        priority: a.get("priority").cloned(),
                        shape: a.get("shape").map(|s| shape(s)).transpose()?,
                        lanes: Vec::new(),
                        line,
                        id,
                    });
                }
            }
            "lane" if in_internal_edge => {
                if let (Some(id), Some(len), Some(speed)) =
                    (a.get("id"), num(a, "length")?, num(a, "speed")?)
                {
                    internal_lanes.insert(id.clone(), (len, speed));
                }
            }
            "lane" if in_normal_edge => {
                if let Some(e) = edges.last_mut() {
                    num(a, "speed")?.ok_or(format!("lane of edge {} has no speed", e.id))?;
                    num(a, "length")?.ok_or(format!("lane of edge {} has no length", e.id))?;
                    e.lanes.push(a.clone());
                }
            }
            "junction" => {
                let id = a.get("id").cloned().ok_or("a junction without an id")?;
                let kind = a.get("type").cloned().unwrap_or_default();
                if kind != "internal" {
                    let x = num(a, "x")?.ok_or(format!("junction {id} has no x"))?;
                    let y = num(a, "y")?.ok_or(format!("junction {id} has no y"))?;
                    junctions.insert(id, ([x, y], kind));
                }
            }
            "connection" => {
                if let (Some(f), Some(t)) = (a.get("from"), a.get("to")) {
                    connections.push((
                        f.clone(),
                        t.clone(),
                        a.get("fromLane").cloned().unwrap_or_default(),
                        a.get("via").cloned(),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if !saw_net {
        return Err(ImportError::Unsupported {
            path: path.to_owned(),
            detail: "no <net> element: not a SUMO network file".into(),
        });
    }
    let crs = match (&opts.src_crs, proj.as_deref().and_then(crs_of)) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c,
        (None, None) => {
            return Err(ImportError::MissingCrs {
                path: path.to_owned(),
                what: "the network (projParameter is \"!\" or missing)".into(),
            })
        }
    };
    let mut layer = Layer::new(
        opts.layer_name.clone().unwrap_or_else(|| "roads".into()),
        opts.kind.unwrap_or(LayerKind::Infrastructure),
        LayerSource {
            path: path.display().to_string(),
            format: FMT.into(),
            crs,
        },
    );
    let to_proj = |c: Coord<f64>| Coord {
        x: c.x - offset[0],
        y: c.y - offset[1],
    };
    let mut net = NetworkBuilder::new(NetworkKind::Road, 1e-6);
    let node_of = |id: &str,
                   net: &mut NetworkBuilder,
                   line: usize|
     -> Result<citytwin_engine::NodeId, ImportError> {
        let (p, kind) = junctions.get(id).ok_or_else(|| {
            corrupt(
                path,
                FMT,
                line,
                format!("edge refers to junction `{id}`, which is not in the file"),
            )
        })?;
        let pos = to_proj(Coord { x: p[0], y: p[1] });
        let known = net.find_label(id).is_some();
        let n = net.node_by_label(id, [pos.x, pos.y]);
        if !known && kind.contains("traffic_light") {
            net.node_mut(n).kind = NodeKind::TrafficSignals;
        }
        Ok(n)
    };
    let mut edge_ids: HashMap<String, EdgeId> = HashMap::new();
    for e in &edges {
        layer.report.source_objects += 1;
        let from = node_of(&e.from, &mut net, e.line)?;
        let to = node_of(&e.to, &mut net, e.line)?;
        let Some(first) = e.lanes.first() else {
            layer.report.skip("edge without lanes");
            continue;
        };
        let length = num(first, "length").ok().flatten().unwrap_or(0.0).max(0.1);
        let speed = num(first, "speed").ok().flatten().unwrap_or(13.89);
        let car_lanes = e
            .lanes
            .iter()
            .filter(|l| lane_allows(l, "passenger"))
            .count();
        let class = RoadClass::from_osm(e.kind.as_deref().unwrap_or(""));
        let mut props = RoadProps::new(class);
        props.lanes_forward = car_lanes.min(255) as u8;
        props.lanes_backward = 0;
        props.speed_kmh = (speed * 3.6) as f32;
        props.speed_tagged = true;
        let mut modes = Modes::NONE;
        for (m, c) in [
            (Modes::CAR, "passenger"),
            (Modes::BICYCLE, "bicycle"),
            (Modes::FOOT, "pedestrian"),
        ] {
            if e.lanes.iter().any(|l| lane_allows(l, c)) {
                modes = modes.with(m);
            }
        }
        props.modes = modes;
        props.name = e.name.clone();
        let geom: Vec<Coord<f64>> = match &e.shape {
            Some(s) if s.len() >= 2 => s.iter().map(|c| to_proj(*c)).collect(),
            _ => {
                let a = junctions.get(&e.from).map(|j| j.0).unwrap_or_default();
                let b = junctions.get(&e.to).map(|j| j.0).unwrap_or_default();
                vec![
                    to_proj(Coord { x: a[0], y: a[1] }),
                    to_proj(Coord { x: b[0], y: b[1] }),
                ]
            }
        };
        let mut attrs: Vec<(String, Value)> = vec![
            ("sumo_id".into(), Value::Text(e.id.clone())),
            ("lanes".into(), Value::Int(e.lanes.len() as i64)),
            ("speed_ms".into(), Value::Float(speed)),
            ("length_m".into(), Value::Float(length)),
            ("from".into(), Value::Text(e.from.clone())),
            ("to".into(), Value::Text(e.to.clone())),
        ];
        if let Some(n) = &e.name {
            attrs.push(("name".into(), Value::Text(n.clone())));
        }
        if let Some(k) = &e.kind {
            attrs.push(("type".into(), Value::Text(k.clone())));
            attrs.push(("highway".into(), Value::Text(class.as_str().into())));
        }
        if let Some(p) = &e.priority {
            attrs.push(("priority".into(), Value::Text(p.clone())));
        }
        let fid = layer.push_feature(Geometry::LineString(LineString::new(geom)), attrs, None);
        let id = net.add_edge(from, to, fid, length, EdgeProps::Road(props));
        edge_ids.insert(e.id.clone(), id);
        progress.tick();
    }
    // The way across a junction: the connection's internal lane and the internal lanes it continues on.
    let next_via: HashMap<(&str, &str), Option<&str>> = connections
        .iter()
        .filter(|c| c.0.starts_with(':'))
        .map(|c| ((c.0.as_str(), c.2.as_str()), c.3.as_deref()))
        .collect();
    let crossing = |via: Option<&str>| -> (f64, f64) {
        let (mut len, mut secs) = (0.0, 0.0);
        let mut lane = via;
        for _ in 0..16 {
            let Some(l) = lane else { break };
            let Some(&(ll, sp)) = internal_lanes.get(l) else {
                break;
            };
            len += ll;
            secs += ll / sp.max(0.1);
            // Lane id = internal edge id + "_" + index.
            let Some((edge, idx)) = l.rsplit_once('_') else {
                break;
            };
            lane = next_via.get(&(edge, idx)).copied().flatten();
        }
        (len, secs)
    };
    let turns: Vec<Turn> = connections
        .iter()
        .filter(|c| !c.0.starts_with(':') && !c.1.starts_with(':'))
        .filter_map(|(f, t, _, via)| {
            let (len, secs) = crossing(via.as_deref());
            Some(Turn {
                from: LinkId::new(*edge_ids.get(f)?, false),
                to: LinkId::new(*edge_ids.get(t)?, false),
                length_m: len,
                speed_kmh: if secs > 0.0 {
                    (len / secs * 3.6) as f32
                } else {
                    0.0
                },
            })
        })
        .collect();
    net.set_turns(turns);
    layer.network = Some(net.finish());
    Ok(layer)
}

/// Maps edge references of a demand file to links of a road layer.
struct EdgeRefs<'a> {
    by_sumo: HashMap<&'a str, LinkId>,
    by_feature: HashMap<u64, citytwin_engine::EdgeId>,
}

impl<'a> EdgeRefs<'a> {
    fn new(layer: &'a Layer) -> Self {
        let mut by_sumo = HashMap::new();
        let mut by_feature = HashMap::new();
        if let Some(net) = &layer.network {
            for e in &net.edges {
                by_feature.insert(e.feature.0, e.id);
                if let Some(f) = layer.feature(e.feature) {
                    if let Some(ValueRef::Text(s)) = layer.attribute(f, "sumo_id") {
                        by_sumo.insert(s, LinkId::new(e.id, false));
                    }
                }
            }
        }
        EdgeRefs {
            by_sumo,
            by_feature,
        }
    }

    fn link(&self, r: &str) -> Result<LinkId, String> {
        if let Some(l) = self.by_sumo.get(r) {
            return Ok(*l);
        }
        if self.by_sumo.is_empty() {
            let (id, back) = match r.strip_suffix('-') {
                Some(x) => (x, true),
                None => (r.strip_suffix('+').unwrap_or(r), false),
            };
            if let Some(e) = id.parse::<u64>().ok().and_then(|f| self.by_feature.get(&f)) {
                return Ok(LinkId::new(*e, back));
            }
            return Err(format!("`{r}` is no road feature of the layer"));
        }
        Err(format!("no edge `{r}` in the network"))
    }
}

fn parse_depart(v: &str) -> Result<f64, String> {
    let t = v.trim();
    if let Ok(x) = t.parse::<f64>() {
        if x.is_finite() && x >= 0.0 {
            return Ok(x);
        }
    }
    t.parse::<citytwin_engine::time::SimTime>()
        .map(|s| f64::from(s.0))
        .map_err(|_| format!("depart=\"{v}\" is not a time (seconds or HH:MM:SS)"))
}

/// Reads trips for the road layer `layer` from a SUMO trips or routes file, or a CSV trip list.
///
/// # Errors
/// [`ImportError`] naming the file and line: unreadable, malformed, an unknown edge, a bad departure.
pub fn read_trips(path: &Path, layer: &Layer) -> Result<Vec<TripSpec>, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let refs = EdgeRefs::new(layer);
    let head = text.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('<') {
        read_xml_trips(path, &text, &refs)
    } else {
        read_csv_trips(path, &text, &refs)
    }
}

fn read_xml_trips(
    path: &Path,
    text: &str,
    refs: &EdgeRefs<'_>,
) -> Result<Vec<TripSpec>, ImportError> {
    const FMT: &str = "SUMO routes";
    let mut routes: HashMap<String, Vec<LinkId>> = HashMap::new();
    let mut trips: Vec<TripSpec> = Vec::new();
    // A <vehicle> whose route comes in a child <route>.
    let mut open_vehicle: Option<(String, f64, Option<String>)> = None;
    let mut saw_root = false;
    walk(text, path, FMT, |name, a, _line| {
        let edges_of = |s: &str| -> Result<Vec<LinkId>, String> {
            let v: Vec<LinkId> = s
                .split_whitespace()
                .map(|e| refs.link(e))
                .collect::<Result<_, _>>()?;
            if v.is_empty() {
                return Err("a route without edges".into());
            }
            Ok(v)
        };
        let id = || a.get("id").cloned().ok_or("an element without an id");
        match name {
            "routes" => saw_root = true,
            "route" => {
                let edges = edges_of(a.get("edges").ok_or("a route without edges")?)?;
                if let Some((vid, dep, _)) = open_vehicle.take() {
                    trips.push(TripSpec {
                        id: vid,
                        depart_s: dep,
                        from: edges[0],
                        to: edges[edges.len() - 1],
                        route: Some(edges),
                    });
                } else {
                    routes.insert(id()?, edges);
                }
            }
            "trip" => {
                let tid = id()?;
                let dep = parse_depart(a.get("depart").ok_or(format!("trip {tid} has no depart"))?)?;
                let from = refs.link(a.get("from").ok_or(format!("trip {tid} has no from"))?)?;
                let to = refs.link(a.get("to").ok_or(format!("trip {tid} has no to"))?)?;
                trips.push(TripSpec {
                    id: tid,
                    depart_s: dep,
                    from,
                    to,
                    route: None,
                });
            }
            "vehicle" => {
                if let Some((vid, ..)) = open_vehicle.take() {
                    return Err(format!("vehicle {vid} has no route"));
                }
                let vid = id()?;
                let dep = parse_depart(a.get("depart").ok_or(format!("vehicle {vid} has no depart"))?)?;
                match a.get("route") {
                    Some(r) => {
                        let edges = routes
                            .get(r)
                            .cloned()
                            .ok_or(format!("vehicle {vid} refers to route `{r}`, not defined before it"))?;
                        trips.push(TripSpec {
                            id: vid,
                            depart_s: dep,
                            from: edges[0],
                            to: edges[edges.len() - 1],
                            route: Some(edges),
                        });
                    }
                    None => open_vehicle = Some((vid, dep, None)),
                }
            }
            "flow" | "person" | "personFlow" | "container" => {
                return Err(format!(
                    "<{name}> is not supported (expand flows into trips, e.g. with SUMO's routeSampler or duarouter)"
                ))
            }
            _ => {}
        }
        Ok(())
    })?;
    if !saw_root {
        return Err(ImportError::Unsupported {
            path: path.to_owned(),
            detail: "no <routes> element: not a SUMO trips or routes file".into(),
        });
    }
    if let Some((vid, ..)) = open_vehicle {
        return Err(corrupt(
            path,
            FMT,
            line_at(text, text.len() as u64),
            format!("vehicle {vid} has no route"),
        ));
    }
    Ok(trips)
}

fn read_csv_trips(
    path: &Path,
    text: &str,
    refs: &EdgeRefs<'_>,
) -> Result<Vec<TripSpec>, ImportError> {
    const FMT: &str = "CSV trips";
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = r.headers().map_err(|e| corrupt(path, FMT, 1, e))?.clone();
    let col = |n: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(n));
    let (Some(ci), Some(cd), Some(cf), Some(ct)) =
        (col("id"), col("depart"), col("from"), col("to"))
    else {
        return Err(corrupt(
            path,
            FMT,
            1,
            "the header must name the columns id, depart, from, to (and optionally route)",
        ));
    };
    let cr = col("route");
    let mut trips = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            corrupt(path, FMT, line, e)
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let get = |i: usize| rec.get(i).unwrap_or("");
        let bad = |d: String| corrupt(path, FMT, line, d);
        let route = match cr.map(get).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.split_whitespace()
                    .map(|e| refs.link(e))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(bad)?,
            ),
            None => None,
        };
        trips.push(TripSpec {
            id: get(ci).to_owned(),
            depart_s: parse_depart(get(cd)).map_err(bad)?,
            from: refs.link(get(cf)).map_err(bad)?,
            to: refs.link(get(ct)).map_err(bad)?,
            route,
        });
    }
    Ok(trips)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: &str = r#"<?xml version="1.0"?>
<net version="1.20">
    <location netOffset="-100.00,-200.00" convBoundary="0,0,100,0" origBoundary="0,0,1,1" projParameter="+proj=utm +zone=35 +ellps=WGS84 +datum=WGS84 +units=m +no_defs"/>
    <edge id=":j1_0" function="internal"><lane id=":j1_0_0" index="0" speed="5" length="3" shape="0,0 1,1"/></edge>
    <edge id="a" from="j0" to="j1" type="highway.residential" name="Main St"><lane id="a_0" index="0" speed="13.89" length="100.5" shape="0,0 100,0"/></edge>
    <edge id="-a" from="j1" to="j0" type="highway.residential"><lane id="-a_0" index="0" speed="13.89" length="100.5" shape="100,0 0,0"/><lane id="-a_1" index="1" disallow="passenger" speed="13.89" length="100.5" shape="100,0 0,0"/></edge>
    <junction id="j0" type="dead_end" x="0.00" y="0.00"/>
    <junction id="j1" type="traffic_light" x="100.00" y="0.00"/>
    <connection from="a" to="-a" fromLane="0" toLane="0" via=":j1_0_0" dir="t" state="M"/>
</net>
"#;

    #[test]
    fn network_and_demand() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("x.net.xml");
        std::fs::write(&p, NET).expect("write");
        let l = import(&p, &ImportOptions::default(), &ProgressBar::hidden()).expect("imports");
        assert_eq!(l.features.len(), 2, "internal edges left out");
        assert!(l.source.crs.contains("+proj=utm") && l.source.crs.contains("+type=crs"));
        let net = l.network.as_ref().expect("graph");
        assert_eq!(net.nodes.len(), 2);
        assert_eq!(
            net.edges[0].length_m, 100.5,
            "the lane length, not the shape's"
        );
        let r = net.edges[1].props.road().expect("road");
        assert_eq!(
            (r.lanes_forward, r.lanes_backward),
            (1, 0),
            "one lane admits cars"
        );
        assert!((r.speed_kmh - 50.0).abs() < 0.01);
        let turns = net.turns.as_ref().expect("turns");
        assert_eq!(turns.len(), 1);
        assert_eq!(turns[0].length_m, 3.0, "the internal lane's length");
        assert!((turns[0].time_s() - 0.6).abs() < 1e-6, "3 m at 5 m/s");
        let ls = match &l.features[0].geometry {
            Geometry::LineString(ls) => ls.clone(),
            g => panic!("{g:?}"),
        };
        assert_eq!((ls.0[0].x, ls.0[0].y), (100.0, 200.0), "netOffset removed");
        assert!(net.nodes.iter().any(|n| n.kind == NodeKind::TrafficSignals));

        let trips = dir.path().join("t.xml");
        std::fs::write(
            &trips,
            r#"<routes><route id="r1" edges="a -a"/><trip id="t0" depart="0.00" from="a" to="-a"/>
<vehicle id="v1" depart="3"><route edges="-a"/></vehicle><vehicle id="v2" depart="5" route="r1"/></routes>"#,
        )
        .expect("write");
        let t = read_trips(&trips, &l).expect("trips");
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].route.as_ref().map(Vec::len), Some(1));
        assert_eq!(t[2].from, LinkId::new(EdgeId(0), false));
        let bad = dir.path().join("bad.xml");
        std::fs::write(
            &bad,
            "<routes>\n<trip id=\"x\" depart=\"0\" from=\"a\" to=\"nowhere\"/>\n</routes>",
        )
        .expect("w");
        let e = read_trips(&bad, &l).expect_err("unknown edge").to_string();
        assert!(e.contains("line 2") && e.contains("nowhere"), "{e}");
        let csv = dir.path().join("t.csv");
        std::fs::write(&csv, "id,depart,from,to\nc1,07:00:00,a,-a\nc2,10,-a,a\n").expect("w");
        let t = read_trips(&csv, &l).expect("csv");
        assert_eq!(t[0].depart_s, 25_200.0);
        std::fs::write(&csv, "id,depart,from,to\nc1,soon,a,-a\n").expect("w");
        let e = read_trips(&csv, &l).expect_err("bad depart").to_string();
        assert!(e.contains("line 2") && e.contains("soon"), "{e}");
    }
}
