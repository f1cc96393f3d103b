//! pandapower networks written by `pandapower.to_json`: the power-flow model ([`read`], a
//! [`PowerGrid`]), and a power layer for the scene ([`import_layer`]).
//!
//! The file is one JSON object `{"_module", "_class": "pandapowerNet", "_object": {...}}` whose `_object` holds the
//! element tables, each `{"_class": "DataFrame", "_object": "<JSON text>", "dtype": {...}}` with the DataFrame
//! serialised by pandas in orient "split" (`columns`, `index`, `data`; NaN written as `null`), and the scalars
//! `sn_mva`, `f_hz`, `name`. Read: `bus` (with `geo`, a GeoJSON point as text), `line` (`geo`, a GeoJSON line
//! string), `trafo`, `load`, `sgen`, `gen`, `ext_grid`, `switch`, `shunt`; pre-3.0 files with `bus_geodata` /
//! `line_geodata` tables and `tap_phase_shifter` are read too. Tables this engine does not model (`trafo3w`,
//! `impedance`, `ward`, `xward`, `storage`, `motor`, `dcline`, asymmetric and DC elements, FACTS) must be empty,
//! else the file is refused. Errors name the file and the line: of the JSON syntax error, or of the table whose
//! row and column hold a bad value.
//!
//! The layer: one point feature per bus (attributes `pp_index`, `name`, `vn_kv`) that is also its network node
//! (label = the pandapower index; kind substation where a transformer or an external grid connects), one line
//! feature and network edge per line (its `geo`, else the straight line between its buses; `length_km` as the edge
//! length) and per transformer, with [`PowerLineProps`] of class `line` or `trafo`; the whole model rides on the
//! layer as [`UtilityModel::Power`]. pandapower files carry no CRS: `--src-crs` is required, and every bus needs a
//! position.
//!
//! # Glossary
//! - **orient split**: pandas' JSON layout of a table as parallel `columns`, `index` and row-major `data`.
//! - **geo**: pandapower 3's geometry column, GeoJSON text in the network's own (undeclared) coordinates.

use crate::{ImportError, ImportOptions};
use citytwin_engine::sim::utilities::power::{
    Bus, ExtGrid, Gen, Injection, Line, PowerGrid, Shunt, Switch, SwitchTarget, Trafo,
};
use citytwin_engine::sim::utilities::UtilityModel;
use citytwin_engine::{
    EdgeProps, Layer, LayerKind, LayerSource, NetworkBuilder, NetworkKind, NodeKind,
    PowerLineProps, Value,
};
use geo_types::{Coord, Geometry, LineString, Point};
use indicatif::ProgressBar;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::path::Path;

const FMT: &str = "pandapower JSON";

/// Element tables this engine does not model; a file with rows in any of them is refused.
const UNSUPPORTED: &[&str] = &[
    "trafo3w",
    "impedance",
    "ward",
    "xward",
    "dcline",
    "storage",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
    "svc",
    "ssc",
    "vsc",
    "tcsc",
    "line_dc",
    "load_dc",
    "source_dc",
    "vsc_stacked",
    "vsc_bipolar",
];

fn corrupt(path: &Path, detail: impl std::fmt::Display) -> ImportError {
    ImportError::Corrupt {
        path: path.to_owned(),
        format: FMT.into(),
        detail: detail.to_string(),
    }
}

/// serde_json's message without its trailing " at line L column C".
fn message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(p) => s[..p].to_owned(),
        None => s,
    }
}

/// For each member of the top-level `_object` (the tables and scalars), the line where its data starts: the line
/// of its own `_object` (a table's DataFrame text) when it has one, else of its key. From a scan of the raw text
/// (serde_json keeps no positions); the first occurrence of a member wins.
fn member_lines(text: &str) -> HashMap<String, usize> {
    let b = text.as_bytes();
    let (mut depth, mut line, mut i) = (0i32, 1usize, 0usize);
    let mut out: HashMap<String, usize> = HashMap::new();
    let mut member: Option<String> = None;
    let mut seen: HashSet<String> = HashSet::new();
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let end = i.min(b.len());
                let mut j = end + 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let key = (j < b.len() && b[j] == b':')
                    .then(|| text.get(start..end))
                    .flatten();
                match (depth, key) {
                    (2, Some(k)) => {
                        // A member seen before (a repeated key) keeps its first position.
                        member = seen.insert(k.to_owned()).then(|| k.to_owned());
                        if let Some(m) = &member {
                            out.insert(m.clone(), line);
                        }
                    }
                    (3, Some("_object")) => {
                        if let Some(m) = &member {
                            out.insert(m.clone(), line);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// One element table (a pandas DataFrame in orient split).
struct Table<'a> {
    path: &'a Path,
    name: &'static str,
    line: usize,
    columns: HashMap<String, usize>,
    index: Vec<i64>,
    data: Vec<Vec<Json>>,
}

impl<'a> Table<'a> {
    fn err(
        &self,
        row: Option<usize>,
        col: Option<&str>,
        what: impl std::fmt::Display,
    ) -> ImportError {
        let mut d = format!("line {}: table `{}`", self.line, self.name);
        if let Some(r) = row {
            d += &format!(
                ", row index {}",
                self.index.get(r).copied().unwrap_or(r as i64)
            );
        }
        if let Some(c) = col {
            d += &format!(", column `{c}`");
        }
        corrupt(self.path, format!("{d}: {what}"))
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn has(&self, col: &str) -> bool {
        self.columns.contains_key(col)
    }

    /// The cell, or None when the column is absent.
    fn cell(&self, row: usize, col: &str) -> Option<&Json> {
        let c = *self.columns.get(col)?;
        self.data[row].get(c)
    }

    /// A number; `null` (pandas' NaN) is NaN; a missing column gives `default`, or an error if none.
    fn f64(&self, row: usize, col: &str, default: Option<f64>) -> Result<f64, ImportError> {
        match self.cell(row, col) {
            None => default.ok_or_else(|| self.err(None, Some(col), "the column is missing")),
            Some(Json::Null) => Ok(f64::NAN),
            Some(Json::Number(n)) => n
                .as_f64()
                .ok_or_else(|| self.err(Some(row), Some(col), format!("{n} is not a number"))),
            Some(Json::Bool(b)) => Ok(f64::from(u8::from(*b))),
            Some(v) => Err(self.err(
                Some(row),
                Some(col),
                format!("expected a number, found {v}"),
            )),
        }
    }

    /// A number that must be there (not NaN).
    fn num(&self, row: usize, col: &str) -> Result<f64, ImportError> {
        let v = self.f64(row, col, None)?;
        if v.is_nan() {
            return Err(self.err(Some(row), Some(col), "the value is missing (NaN)"));
        }
        Ok(v)
    }

    /// A number with a default for a missing column or a NaN.
    fn num_or(&self, row: usize, col: &str, default: f64) -> Result<f64, ImportError> {
        let v = self.f64(row, col, Some(default))?;
        Ok(if v.is_nan() { default } else { v })
    }

    /// A whole number (a bus index).
    fn int(&self, row: usize, col: &str) -> Result<i64, ImportError> {
        let v = self.num(row, col)?;
        if v.fract() != 0.0 || v.abs() > 9.0e15 {
            return Err(self.err(
                Some(row),
                Some(col),
                format!("expected an index, found {v}"),
            ));
        }
        Ok(v as i64)
    }

    fn bool(&self, row: usize, col: &str, default: bool) -> Result<bool, ImportError> {
        match self.cell(row, col) {
            None | Some(Json::Null) => Ok(default),
            Some(Json::Bool(b)) => Ok(*b),
            Some(Json::Number(n)) if n.as_f64() == Some(0.0) || n.as_f64() == Some(1.0) => {
                Ok(n.as_f64() == Some(1.0))
            }
            Some(v) => Err(self.err(
                Some(row),
                Some(col),
                format!("expected true or false, found {v}"),
            )),
        }
    }

    fn text(&self, row: usize, col: &str) -> Result<Option<String>, ImportError> {
        match self.cell(row, col) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(Json::Number(n)) => Ok(Some(n.to_string())),
            Some(v) => Err(self.err(Some(row), Some(col), format!("expected text, found {v}"))),
        }
    }

    /// A GeoJSON geometry given as text (pandapower 3's `geo`), as its coordinate list.
    fn geo(&self, row: usize, col: &str) -> Result<Option<Vec<[f64; 2]>>, ImportError> {
        let Some(text) = self.text(row, col)? else {
            return Ok(None);
        };
        let bad = |what: String| self.err(Some(row), Some(col), what);
        let g: Json = serde_json::from_str(&text)
            .map_err(|e| bad(format!("bad GeoJSON ({})", message(&e))))?;
        let coords = g
            .get("coordinates")
            .ok_or_else(|| bad("GeoJSON without coordinates".into()))?;
        let point = |c: &Json| -> Option<[f64; 2]> {
            let a = c.as_array()?;
            Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?])
        };
        match g.get("type").and_then(Json::as_str) {
            Some("Point") => point(coords)
                .map(|p| Some(vec![p]))
                .ok_or_else(|| bad(format!("bad point coordinates {coords}"))),
            Some("LineString") => coords
                .as_array()
                .and_then(|a| a.iter().map(point).collect::<Option<Vec<_>>>())
                .map(Some)
                .ok_or_else(|| bad(format!("bad line coordinates {coords}"))),
            other => Err(bad(format!("unsupported GeoJSON type {other:?}"))),
        }
    }
}

/// The parsed top-level object, with the line of each member.
struct Net<'a> {
    path: &'a Path,
    members: &'a serde_json::Map<String, Json>,
    lines: HashMap<String, usize>,
}

impl<'a> Net<'a> {
    /// The table `name` (None when absent from the file).
    fn table(&self, name: &'static str) -> Result<Option<Table<'a>>, ImportError> {
        let Some(v) = self.members.get(name) else {
            return Ok(None);
        };
        let line = self.lines.get(name).copied().unwrap_or(1);
        let here =
            |what: String| corrupt(self.path, format!("line {line}: table `{name}`: {what}"));
        let inner = v
            .get("_object")
            .ok_or_else(|| here("expected a DataFrame object with `_object`".into()))?;
        let parsed;
        let df: &Json = match inner {
            Json::String(s) => {
                parsed = serde_json::from_str::<Json>(s).map_err(|e| {
                    here(format!(
                        "the embedded table is not valid JSON: {} (at its line {}, column {})",
                        message(&e),
                        e.line(),
                        e.column()
                    ))
                })?;
                &parsed
            }
            other => other,
        };
        let columns: Vec<String> = df
            .get("columns")
            .and_then(Json::as_array)
            .ok_or_else(|| here("no `columns` list".into()))?
            .iter()
            .map(|c| match c {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let index: Vec<i64> = df
            .get("index")
            .and_then(Json::as_array)
            .ok_or_else(|| here("no `index` list".into()))?
            .iter()
            .map(|i| {
                i.as_i64()
                    .ok_or_else(|| here(format!("index {i} is not an integer")))
            })
            .collect::<Result<_, _>>()?;
        let data: Vec<Vec<Json>> = df
            .get("data")
            .and_then(Json::as_array)
            .ok_or_else(|| here("no `data` list".into()))?
            .iter()
            .enumerate()
            .map(|(r, row)| {
                row.as_array()
                    .filter(|a| a.len() == columns.len())
                    .cloned()
                    .ok_or_else(|| {
                        here(format!(
                            "row index {}: expected {} values",
                            index.get(r).copied().unwrap_or(r as i64),
                            columns.len()
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        if data.len() != index.len() {
            return Err(here(format!(
                "{} rows of data for {} index entries",
                data.len(),
                index.len()
            )));
        }
        Ok(Some(Table {
            path: self.path,
            name,
            line,
            columns: columns
                .into_iter()
                .enumerate()
                .map(|(i, c)| (c, i))
                .collect(),
            index,
            data,
        }))
    }

    fn scalar(&self, name: &str, default: f64) -> Result<f64, ImportError> {
        match self.members.get(name) {
            None | Some(Json::Null) => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| {
                corrupt(
                    self.path,
                    format!(
                        "line {}: `{name}` should be a number, found {v}",
                        self.lines.get(name).copied().unwrap_or(1)
                    ),
                )
            }),
        }
    }
}

fn injections(t: Option<&Table<'_>>, load: bool) -> Result<Vec<Injection>, ImportError> {
    let Some(t) = t else { return Ok(Vec::new()) };
    (0..t.len())
        .map(|r| {
            let pct = |c| if load { t.num_or(r, c, 0.0) } else { Ok(0.0) };
            Ok(Injection {
                index: t.index[r],
                name: t.text(r, "name")?,
                bus: t.int(r, "bus")?,
                p_mw: t.num(r, "p_mw")?,
                q_mvar: t.num_or(r, "q_mvar", 0.0)?,
                scaling: t.num_or(r, "scaling", 1.0)?,
                in_service: t.bool(r, "in_service", true)?,
                const_z_p_percent: pct("const_z_p_percent")?,
                const_i_p_percent: pct("const_i_p_percent")?,
                const_z_q_percent: pct("const_z_q_percent")?,
                const_i_q_percent: pct("const_i_q_percent")?,
            })
        })
        .collect()
}

/// Reads a pandapower network (the file `pandapower.to_json` writes).
///
/// # Errors
/// [`ImportError::Io`] if unreadable; [`ImportError::Corrupt`] naming the line for broken JSON, missing tables
/// or columns and bad values (with the table, row index and column); [`ImportError::Unsupported`] when a table the
/// power flow does not model has rows.
pub fn read(path: &Path) -> Result<PowerGrid, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let root: Json = serde_json::from_str(&text).map_err(|e| {
        corrupt(
            path,
            format!("line {}, column {}: {}", e.line(), e.column(), message(&e)),
        )
    })?;
    let members = root
        .get("_object")
        .and_then(Json::as_object)
        .filter(|_| root.get("_class").and_then(Json::as_str) == Some("pandapowerNet"))
        .ok_or_else(|| {
            corrupt(
                path,
                "line 1: not a pandapowerNet (no `_class` \"pandapowerNet\" with an `_object`)",
            )
        })?;
    let net = Net {
        path,
        members,
        lines: member_lines(&text),
    };
    for name in UNSUPPORTED {
        if let Some(t) = net.table(name)? {
            if t.len() > 0 {
                return Err(ImportError::Unsupported {
                    path: path.to_owned(),
                    detail: format!(
                        "line {}: table `{name}` has {} row{}; citytwin's power flow does not model {name} elements",
                        t.line,
                        t.len(),
                        if t.len() == 1 { "" } else { "s" }
                    ),
                });
            }
        }
    }
    let bus_t = net
        .table("bus")?
        .ok_or_else(|| corrupt(path, "line 1: no `bus` table"))?;
    // Pre-3.0 files keep positions in `bus_geodata` (x, y) and `line_geodata` (coords).
    let mut old_bus_geo: HashMap<i64, [f64; 2]> = HashMap::new();
    if !bus_t.has("geo") {
        if let Some(g) = net.table("bus_geodata")? {
            for r in 0..g.len() {
                let (x, y) = (g.f64(r, "x", None)?, g.f64(r, "y", None)?);
                if x.is_finite() && y.is_finite() {
                    old_bus_geo.insert(g.index[r], [x, y]);
                }
            }
        }
    }
    let mut buses = Vec::with_capacity(bus_t.len());
    for r in 0..bus_t.len() {
        let index = bus_t.index[r];
        let geo = if bus_t.has("geo") {
            match bus_t.geo(r, "geo")? {
                Some(c) if c.len() == 1 => Some(c[0]),
                Some(_) => {
                    return Err(bus_t.err(
                        Some(r),
                        Some("geo"),
                        "a bus position must be a GeoJSON point",
                    ))
                }
                None => None,
            }
        } else {
            old_bus_geo.get(&index).copied()
        };
        buses.push(Bus {
            index,
            name: bus_t.text(r, "name")?,
            vn_kv: bus_t.num(r, "vn_kv")?,
            in_service: bus_t.bool(r, "in_service", true)?,
            feature: None,
            geo,
        });
    }
    let mut lines = Vec::new();
    if let Some(t) = net.table("line")? {
        let mut old_geo: HashMap<i64, Vec<[f64; 2]>> = HashMap::new();
        if !t.has("geo") {
            if let Some(g) = net.table("line_geodata")? {
                for r in 0..g.len() {
                    let pts = g.cell(r, "coords").and_then(Json::as_array).map(|a| {
                        a.iter()
                            .filter_map(|p| {
                                let p = p.as_array()?;
                                Some([p.first()?.as_f64()?, p.get(1)?.as_f64()?])
                            })
                            .collect::<Vec<_>>()
                    });
                    if let Some(p) = pts.filter(|p| p.len() >= 2) {
                        old_geo.insert(g.index[r], p);
                    }
                }
            }
        }
        for r in 0..t.len() {
            let index = t.index[r];
            let geo = if t.has("geo") {
                t.geo(r, "geo")?
            } else {
                old_geo.remove(&index)
            };
            lines.push(Line {
                index,
                name: t.text(r, "name")?,
                from_bus: t.int(r, "from_bus")?,
                to_bus: t.int(r, "to_bus")?,
                length_km: t.num(r, "length_km")?,
                r_ohm_per_km: t.num(r, "r_ohm_per_km")?,
                x_ohm_per_km: t.num(r, "x_ohm_per_km")?,
                c_nf_per_km: t.num_or(r, "c_nf_per_km", 0.0)?,
                g_us_per_km: t.num_or(r, "g_us_per_km", 0.0)?,
                max_i_ka: t.num(r, "max_i_ka")?,
                parallel: t.num_or(r, "parallel", 1.0)?,
                df: t.num_or(r, "df", 1.0)?,
                in_service: t.bool(r, "in_service", true)?,
                feature: None,
                geo: geo.filter(|g| g.len() >= 2),
            });
        }
    }
    let mut trafos = Vec::new();
    if let Some(t) = net.table("trafo")? {
        let new_taps = t.has("tap_changer_type");
        for r in 0..t.len() {
            trafos.push(Trafo {
                index: t.index[r],
                name: t.text(r, "name")?,
                hv_bus: t.int(r, "hv_bus")?,
                lv_bus: t.int(r, "lv_bus")?,
                sn_mva: t.num(r, "sn_mva")?,
                vn_hv_kv: t.num(r, "vn_hv_kv")?,
                vn_lv_kv: t.num(r, "vn_lv_kv")?,
                vk_percent: t.num(r, "vk_percent")?,
                vkr_percent: t.num(r, "vkr_percent")?,
                pfe_kw: t.num_or(r, "pfe_kw", 0.0)?,
                i0_percent: t.num_or(r, "i0_percent", 0.0)?,
                shift_degree: t.num_or(r, "shift_degree", 0.0)?,
                tap_side: t.text(r, "tap_side")?,
                tap_neutral: t.f64(r, "tap_neutral", Some(f64::NAN))?,
                tap_pos: t.f64(r, "tap_pos", Some(f64::NAN))?,
                tap_step_percent: t.f64(r, "tap_step_percent", Some(f64::NAN))?,
                tap_step_degree: t.f64(r, "tap_step_degree", Some(f64::NAN))?,
                tap_changer_type: if new_taps {
                    t.text(r, "tap_changer_type")?
                } else {
                    None
                },
                tap_phase_shifter: if new_taps || !t.has("tap_phase_shifter") {
                    None
                } else {
                    Some(t.bool(r, "tap_phase_shifter", false)?)
                },
                tap_dependency_table: t.bool(r, "tap_dependency_table", false)?,
                parallel: t.num_or(r, "parallel", 1.0)?,
                df: t.num_or(r, "df", 1.0)?,
                in_service: t.bool(r, "in_service", true)?,
                feature: None,
            });
        }
    }
    let loads = injections(net.table("load")?.as_ref(), true)?;
    let sgens = injections(net.table("sgen")?.as_ref(), false)?;
    let mut gens = Vec::new();
    if let Some(t) = net.table("gen")? {
        for r in 0..t.len() {
            gens.push(Gen {
                index: t.index[r],
                name: t.text(r, "name")?,
                bus: t.int(r, "bus")?,
                p_mw: t.num(r, "p_mw")?,
                vm_pu: t.num_or(r, "vm_pu", 1.0)?,
                scaling: t.num_or(r, "scaling", 1.0)?,
                in_service: t.bool(r, "in_service", true)?,
                slack: t.bool(r, "slack", false)?,
                min_q_mvar: t.f64(r, "min_q_mvar", Some(f64::NAN))?,
                max_q_mvar: t.f64(r, "max_q_mvar", Some(f64::NAN))?,
            });
        }
    }
    let mut ext_grids = Vec::new();
    if let Some(t) = net.table("ext_grid")? {
        for r in 0..t.len() {
            ext_grids.push(ExtGrid {
                index: t.index[r],
                name: t.text(r, "name")?,
                bus: t.int(r, "bus")?,
                vm_pu: t.num_or(r, "vm_pu", 1.0)?,
                va_degree: t.num_or(r, "va_degree", 0.0)?,
                in_service: t.bool(r, "in_service", true)?,
            });
        }
    }
    let mut switches = Vec::new();
    if let Some(t) = net.table("switch")? {
        for r in 0..t.len() {
            let et = match t.text(r, "et")?.as_deref() {
                Some("b") => SwitchTarget::Bus,
                Some("l") => SwitchTarget::Line,
                Some("t") => SwitchTarget::Trafo,
                other => {
                    return Err(t.err(
                        Some(r),
                        Some("et"),
                        format!("switch element type {other:?} is not one of \"b\", \"l\", \"t\""),
                    ))
                }
            };
            switches.push(Switch {
                index: t.index[r],
                name: t.text(r, "name")?,
                bus: t.int(r, "bus")?,
                element: t.int(r, "element")?,
                et,
                closed: t.bool(r, "closed", true)?,
                z_ohm: t.f64(r, "z_ohm", Some(0.0))?,
            });
        }
    }
    let mut shunts = Vec::new();
    if let Some(t) = net.table("shunt")? {
        for r in 0..t.len() {
            shunts.push(Shunt {
                index: t.index[r],
                name: t.text(r, "name")?,
                bus: t.int(r, "bus")?,
                p_mw: t.num_or(r, "p_mw", 0.0)?,
                q_mvar: t.num(r, "q_mvar")?,
                vn_kv: t.f64(r, "vn_kv", Some(f64::NAN))?,
                step: t.num_or(r, "step", 1.0)?,
                in_service: t.bool(r, "in_service", true)?,
            });
        }
    }
    let name = match members.get("name") {
        Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Ok(PowerGrid {
        name,
        sn_mva: net.scalar("sn_mva", 1.0)?,
        f_hz: net.scalar("f_hz", 50.0)?,
        buses,
        lines,
        trafos,
        loads,
        sgens,
        gens,
        ext_grids,
        switches,
        shunts,
    })
}

/// Imports a pandapower network as a power layer: buses as points and network nodes, lines and transformers
/// as line features and edges, the model as the layer's [`UtilityModel::Power`].
///
/// # Errors
/// Those of [`read`]; [`ImportError::MissingCrs`] without `--src-crs`; [`ImportError::Unsupported`] naming the
/// first bus without a position, or a line or transformer at an unknown bus.
pub fn import_layer(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    progress.set_message("pandapower network");
    let mut grid = read(path)?;
    let crs = opts
        .src_crs
        .clone()
        .ok_or_else(|| ImportError::MissingCrs {
            path: path.to_owned(),
            what: "the pandapower network (its coordinates carry no CRS)".into(),
        })?;
    let unsupported = |detail: String| ImportError::Unsupported {
        path: path.to_owned(),
        detail,
    };
    let mut pos: HashMap<i64, ([f64; 2], f64)> = HashMap::with_capacity(grid.buses.len());
    for b in &grid.buses {
        let Some(p) = b.geo else {
            return Err(unsupported(format!(
                "bus {}{} has no position (geo); every bus needs one to be placed in a scene",
                b.index,
                b.name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            )));
        };
        pos.insert(b.index, (p, b.vn_kv));
    }
    let at = |what: &str, index: i64, bus: i64| {
        pos.get(&bus).copied().ok_or_else(|| {
            unsupported(format!("{what} {index}: bus {bus} is not in the bus table"))
        })
    };
    let substations: HashSet<i64> = grid
        .trafos
        .iter()
        .flat_map(|t| [t.hv_bus, t.lv_bus])
        .chain(grid.ext_grids.iter().map(|e| e.bus))
        .collect();
    let mut layer = Layer::new(
        opts.layer_name
            .clone()
            .unwrap_or_else(|| crate::default_layer_name(path)),
        opts.kind.unwrap_or(LayerKind::Infrastructure),
        LayerSource {
            path: path.display().to_string(),
            format: FMT.into(),
            crs,
        },
    );
    let mut net = NetworkBuilder::new(NetworkKind::Power, 1e-9);
    let mut features = (Vec::new(), Vec::new(), Vec::new());
    for b in &grid.buses {
        layer.report.source_objects += 1;
        let (p, _) = at("bus", b.index, b.index)?;
        let mut attrs = vec![
            ("pp_index".to_owned(), Value::Int(b.index)),
            ("vn_kv".to_owned(), Value::Float(b.vn_kv)),
            ("in_service".to_owned(), Value::Bool(b.in_service)),
        ];
        if let Some(n) = &b.name {
            attrs.push(("name".into(), Value::Text(n.clone())));
        }
        let fid = layer.push_feature(Geometry::Point(Point::new(p[0], p[1])), attrs, None);
        features.0.push(fid);
        let node = net.node_by_label(&b.index.to_string(), p);
        let n = net.node_mut(node);
        n.feature = Some(fid);
        if substations.contains(&b.index) {
            n.kind = NodeKind::Substation;
        }
        progress.tick();
    }
    let coords = |pts: &[[f64; 2]]| {
        LineString::new(pts.iter().map(|p| Coord { x: p[0], y: p[1] }).collect())
    };
    for l in &grid.lines {
        layer.report.source_objects += 1;
        let (a, vn) = at("line", l.index, l.from_bus)?;
        let (b, _) = at("line", l.index, l.to_bus)?;
        let geom = match &l.geo {
            Some(g) if g.len() >= 2 => coords(g),
            _ => coords(&[a, b]),
        };
        let mut attrs = vec![
            ("pp_index".to_owned(), Value::Int(l.index)),
            ("kind".to_owned(), Value::Text("line".into())),
            ("length_km".to_owned(), Value::Float(l.length_km)),
            ("max_i_ka".to_owned(), Value::Float(l.max_i_ka)),
            ("vn_kv".to_owned(), Value::Float(vn)),
            ("in_service".to_owned(), Value::Bool(l.in_service)),
        ];
        if let Some(n) = &l.name {
            attrs.push(("name".into(), Value::Text(n.clone())));
        }
        let fid = layer.push_feature(Geometry::LineString(geom), attrs, None);
        features.1.push(fid);
        let from = net.node_by_label(&l.from_bus.to_string(), a);
        let to = net.node_by_label(&l.to_bus.to_string(), b);
        net.add_edge(
            from,
            to,
            fid,
            (l.length_km * 1000.0).max(0.0),
            EdgeProps::Power(PowerLineProps {
                class: "line".into(),
                voltage_v: Some((vn * 1000.0) as f32),
                circuits: circuits(l.parallel),
            }),
        );
        progress.tick();
    }
    for t in &grid.trafos {
        layer.report.source_objects += 1;
        let (a, _) = at("trafo", t.index, t.hv_bus)?;
        let (b, _) = at("trafo", t.index, t.lv_bus)?;
        let mut attrs = vec![
            ("pp_index".to_owned(), Value::Int(t.index)),
            ("kind".to_owned(), Value::Text("trafo".into())),
            ("sn_mva".to_owned(), Value::Float(t.sn_mva)),
            ("vn_hv_kv".to_owned(), Value::Float(t.vn_hv_kv)),
            ("vn_lv_kv".to_owned(), Value::Float(t.vn_lv_kv)),
            ("in_service".to_owned(), Value::Bool(t.in_service)),
        ];
        if let Some(n) = &t.name {
            attrs.push(("name".into(), Value::Text(n.clone())));
        }
        let fid = layer.push_feature(Geometry::LineString(coords(&[a, b])), attrs, None);
        features.2.push(fid);
        let from = net.node_by_label(&t.hv_bus.to_string(), a);
        let to = net.node_by_label(&t.lv_bus.to_string(), b);
        net.add_edge(
            from,
            to,
            fid,
            0.0,
            EdgeProps::Power(PowerLineProps {
                class: "trafo".into(),
                voltage_v: Some((t.vn_hv_kv * 1000.0) as f32),
                circuits: circuits(t.parallel),
            }),
        );
        progress.tick();
    }
    layer.network = Some(net.finish());
    for (b, f) in grid.buses.iter_mut().zip(features.0) {
        b.feature = Some(f);
    }
    for (l, f) in grid.lines.iter_mut().zip(features.1) {
        l.feature = Some(f);
    }
    for (t, f) in grid.trafos.iter_mut().zip(features.2) {
        t.feature = Some(f);
    }
    layer.utility = Some(Box::new(UtilityModel::Power(grid)));
    Ok(layer)
}

/// `parallel` as a circuit count, when it is a small whole number.
fn circuits(parallel: f64) -> Option<u8> {
    ((1.0..=255.0).contains(&parallel) && parallel.fract() == 0.0).then_some(parallel as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_lines_skip_strings_and_nested_keys() {
        let text = "{\n \"_module\": \"x\",\n \"_object\": {\n  \"bus\": {\n\"_object\": \"{\\\"line\\\": 1}\"},\n  \"line\": {\"a\": {\"trafo\": 1}}\n }\n}";
        let m = member_lines(text);
        assert_eq!(
            m.get("bus"),
            Some(&5),
            "the line of the table's own _object"
        );
        assert_eq!(
            m.get("line"),
            Some(&6),
            "the escaped key inside the bus table is not a member"
        );
        assert_eq!(m.get("trafo"), None, "deeper keys are not members");
        assert_eq!(m.get("_module"), None, "top-level keys are not members");
    }

    #[test]
    fn serde_messages_lose_their_position() {
        let e = serde_json::from_str::<Json>("{\"a\": [1,").expect_err("truncated");
        assert!(!message(&e).contains("line"), "{}", message(&e));
        assert!(e.line() >= 1);
    }
}
