//! EPANET input files (`.inp`): the hydraulic model ([`read`]), and a water layer for the scene
//! ([`import_layer`]) that keeps EPANET's ids, node kinds and elevations and carries the model for simulations.
//!
//! The reader follows EPANET 2.2's own (see [`parse`]): the same sections, keywords, defaults and checks, and
//! errors that name the file, line, section, EPANET error code and offending token.

pub mod parse;

use crate::{ImportError, ImportOptions};
use citytwin_engine::sim::utilities::water::{LinkKind, NodeKind as WaterNodeKind};
use citytwin_engine::sim::utilities::UtilityModel;
use citytwin_engine::{
    EdgeProps, Layer, LayerKind, LayerSource, NetworkBuilder, NetworkKind, NodeKind, PipeProps,
    Value,
};
use geo_types::{Coord, Geometry, LineString, Point};
use indicatif::ProgressBar;
use std::path::Path;

pub use parse::{InpError, Parsed};

/// Reads and checks an EPANET input file.
///
/// # Errors
/// [`ImportError::Io`] if it cannot be read; [`ImportError::Invalid`] listing up to ten problems, each with its
/// line, when EPANET would refuse the file; the same when the network breaks a solver rule (a pump curve EPANET
/// cannot fit, tank levels outside their range).
pub fn read(path: &Path) -> Result<Parsed, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let invalid = |problems: Vec<String>| ImportError::Invalid {
        path: path.to_owned(),
        format: "EPANET input".into(),
        problems,
    };
    let parsed = parse::parse(&text)
        .map_err(|errs| invalid(errs.iter().map(ToString::to_string).collect()))?;
    // The solver's own checks (pump curves, tank levels), reported at the element's line.
    if let Err(e) = citytwin_engine::sim::utilities::water::Hydraulics::new(&parsed.network) {
        let line = element_line(&parsed, &e.to_string());
        let msg = match line {
            Some(l) => format!("line {l}: {e}"),
            None => e.to_string(),
        };
        return Err(invalid(vec![msg]));
    }
    Ok(parsed)
}

/// The line of the element a message names (`pump 7: …`, `tank T1: …`).
fn element_line(p: &Parsed, msg: &str) -> Option<usize> {
    let net = &p.network;
    let rest = msg.split_once(": ").map_or(msg, |(_, r)| r);
    let (kind, rest) = rest.split_once(' ')?;
    let id = rest.split([':', ' ']).next()?;
    match kind {
        "pump" | "pipe" | "valve" | "GPV" | "link" => net.link_index(id).map(|k| p.link_lines[k]),
        "tank" | "node" | "junction" | "reservoir" => net.node_index(id).map(|i| p.node_lines[i]),
        _ => None,
    }
}

/// Imports an EPANET network as a water layer: a point feature per node, a line feature per link (through its
/// vertices), a network of pipes, pumps and valves with EPANET's ids as node labels, and the full hydraulic
/// model attached for simulations. An `.inp` has no CRS: `--src-crs` names the one its coordinates are in.
///
/// # Errors
/// As [`read`]; [`ImportError::MissingCrs`] without `--src-crs`; [`ImportError::Invalid`] naming the nodes
/// that have no coordinates.
pub fn import_layer(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    progress.set_message("EPANET network");
    let Parsed {
        mut network,
        node_lines,
        ..
    } = read(path)?;
    let crs = opts
        .src_crs
        .clone()
        .ok_or_else(|| ImportError::MissingCrs {
            path: path.to_owned(),
            what: "an EPANET network (.inp files carry no CRS)".into(),
        })?;
    let missing: Vec<String> = network
        .nodes
        .iter()
        .zip(&node_lines)
        .filter(|(n, _)| n.position.is_none())
        .take(10)
        .map(|(n, l)| {
            format!(
                "line {l}: node `{}` has no [COORDINATES] entry [EPANET error 254]",
                n.id
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::Invalid {
            path: path.to_owned(),
            format: "EPANET input".into(),
            problems: missing,
        });
    }
    let mut layer = Layer::new(
        opts.layer_name.clone().unwrap_or_else(|| "water".into()),
        opts.kind.unwrap_or(LayerKind::Infrastructure),
        LayerSource {
            path: path.display().to_string(),
            format: "EPANET input".into(),
            crs,
        },
    );
    layer.report.source_objects = (network.nodes.len() + network.links.len()) as u64;
    let mut net = NetworkBuilder::new(NetworkKind::Water, 0.0);
    let mut node_ids = Vec::with_capacity(network.nodes.len());
    for node in &mut network.nodes {
        let pos = node.position.unwrap_or_default();
        let (kind, kind_name) = match node.kind {
            WaterNodeKind::Junction => (NodeKind::Junction, "junction"),
            WaterNodeKind::Reservoir { .. } => (NodeKind::Reservoir, "reservoir"),
            WaterNodeKind::Tank(_) => (NodeKind::Tank, "tank"),
        };
        let demand: f64 = node.demands.iter().map(|d| d.base_m3s).sum();
        let attrs = vec![
            ("epanet_id".to_owned(), Value::Text(node.id.clone())),
            ("epanet_type".to_owned(), Value::Text(kind_name.into())),
            ("elevation_m".to_owned(), Value::Float(node.elevation_m)),
            ("base_demand_m3s".to_owned(), Value::Float(demand)),
        ];
        let fid = layer.push_feature(Geometry::Point(Point::new(pos[0], pos[1])), attrs, None);
        node.feature = Some(fid);
        let id = net.node_by_label(&node.id, pos);
        let n = net.node_mut(id);
        n.kind = kind;
        n.elevation_m = Some(node.elevation_m);
        n.elevation_from_source = true;
        n.feature = Some(fid);
        node_ids.push(id);
        progress.tick();
    }
    for link in &mut network.links {
        let a = network.nodes[link.from].position.unwrap_or_default();
        let b = network.nodes[link.to].position.unwrap_or_default();
        let mut coords = Vec::with_capacity(link.vertices.len() + 2);
        coords.push(Coord { x: a[0], y: a[1] });
        coords.extend(link.vertices.iter().map(|v| Coord { x: v[0], y: v[1] }));
        coords.push(Coord { x: b[0], y: b[1] });
        let mut attrs = vec![
            ("epanet_id".to_owned(), Value::Text(link.id.clone())),
            (
                "epanet_type".to_owned(),
                Value::Text(link.kind.name().into()),
            ),
            (
                "from".to_owned(),
                Value::Text(network.nodes[link.from].id.clone()),
            ),
            (
                "to".to_owned(),
                Value::Text(network.nodes[link.to].id.clone()),
            ),
            (
                "status".to_owned(),
                Value::Text(link.status.as_str().to_lowercase()),
            ),
        ];
        let (length, props) = match &link.kind {
            LinkKind::Pipe(p) => {
                attrs.push(("diameter_mm".into(), Value::Float(p.diameter_m * 1000.0)));
                attrs.push(("length_m".into(), Value::Float(p.length_m)));
                attrs.push(("roughness".into(), Value::Float(p.roughness)));
                (
                    p.length_m,
                    EdgeProps::Pipe(PipeProps {
                        diameter_mm: Some((p.diameter_m * 1000.0) as f32),
                        substance: Some("water".into()),
                        material: None,
                    }),
                )
            }
            LinkKind::Pump(_) => (
                0.0,
                EdgeProps::Other {
                    class: "pump".into(),
                },
            ),
            LinkKind::Valve(v) => {
                attrs.push(("diameter_mm".into(), Value::Float(v.diameter_m * 1000.0)));
                (
                    0.0,
                    EdgeProps::Other {
                        class: format!("valve_{}", v.kind.as_str()),
                    },
                )
            }
        };
        let fid = layer.push_feature(Geometry::LineString(LineString::new(coords)), attrs, None);
        link.feature = Some(fid);
        net.add_edge(node_ids[link.from], node_ids[link.to], fid, length, props);
        progress.tick();
    }
    layer.network = Some(net.finish());
    layer.utility = Some(Box::new(UtilityModel::Water(network)));
    Ok(layer)
}
