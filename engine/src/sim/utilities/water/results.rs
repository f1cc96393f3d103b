//! A whole extended-period run ([`simulate`]) and its results at the report times ([`WaterResults`]), with the
//! CSV layout `citytwin water` writes: one row per report time (column `time_s`), one column per node or link id,
//! SI units.

use super::hydraulics::Hydraulics;
use super::network::WaterNetwork;
use super::WaterError;
use std::io::Write;
use std::path::Path;

/// One quantity at every report time, for every node or every link: `values[t * ids.len() + i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultTable {
    /// Column ids (node or link ids), in network order.
    pub ids: Vec<String>,
    /// Values, time-major.
    pub values: Vec<f64>,
}

impl ResultTable {
    fn new(ids: Vec<String>) -> Self {
        ResultTable {
            ids,
            values: Vec::new(),
        }
    }

    /// The values at report time index `t`.
    pub fn row(&self, t: usize) -> &[f64] {
        let n = self.ids.len();
        &self.values[t * n..(t + 1) * n]
    }

    /// The value of column `i` at report time index `t`.
    pub fn get(&self, t: usize, i: usize) -> f64 {
        self.values[t * self.ids.len() + i]
    }
}

/// Results of an extended-period run at its report times, in SI units.
#[derive(Clone, Debug, PartialEq)]
pub struct WaterResults {
    /// Report times, s from the start.
    pub times_s: Vec<i64>,
    /// Node heads, m.
    pub head_m: ResultTable,
    /// Node pressure heads (head − elevation), m.
    pub pressure_m: ResultTable,
    /// Junction delivered demand (with emitter outflow); tank and reservoir net inflow. m³/s.
    pub demand_m3s: ResultTable,
    /// Link flows, m³/s (0 when closed).
    pub flow_m3s: ResultTable,
    /// Link velocities, m/s.
    pub velocity_ms: ResultTable,
    /// Hydraulic solutions computed (report times and every intermediate time step).
    pub solutions: u64,
    /// Gradient-method trials over all solutions.
    pub trials: u64,
}

impl WaterResults {
    fn new(net: &WaterNetwork) -> Self {
        let nodes: Vec<String> = net.nodes.iter().map(|n| n.id.clone()).collect();
        let links: Vec<String> = net.links.iter().map(|l| l.id.clone()).collect();
        WaterResults {
            times_s: Vec::new(),
            head_m: ResultTable::new(nodes.clone()),
            pressure_m: ResultTable::new(nodes.clone()),
            demand_m3s: ResultTable::new(nodes),
            flow_m3s: ResultTable::new(links.clone()),
            velocity_ms: ResultTable::new(links),
            solutions: 0,
            trials: 0,
        }
    }

    /// Appends the current state of `h` as report time `t`.
    pub fn record(&mut self, t: i64, h: &Hydraulics) {
        let (nn, nl) = h.size();
        self.times_s.push(t);
        for i in 0..nn {
            self.head_m.values.push(h.head_m(i));
            self.pressure_m.values.push(h.pressure_m(i));
            self.demand_m3s.values.push(h.demand_m3s(i));
        }
        for k in 0..nl {
            self.flow_m3s.values.push(h.flow_m3s(k));
            self.velocity_ms.values.push(h.velocity_ms(k));
        }
    }

    /// Writes `node_head_m.csv`, `node_pressure_m.csv`, `node_demand_m3s.csv` and `link_flow_m3s.csv` into
    /// `dir`, each through a temporary file renamed into place.
    ///
    /// # Errors
    /// The first I/O error.
    pub fn write_csv(&self, dir: &Path) -> std::io::Result<()> {
        for (name, table) in [
            ("node_head_m.csv", &self.head_m),
            ("node_pressure_m.csv", &self.pressure_m),
            ("node_demand_m3s.csv", &self.demand_m3s),
            ("link_flow_m3s.csv", &self.flow_m3s),
            ("link_velocity_ms.csv", &self.velocity_ms),
        ] {
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            {
                let mut w = std::io::BufWriter::new(tmp.as_file_mut());
                write!(w, "time_s")?;
                for id in &table.ids {
                    write!(w, ",{}", csv_field(id))?;
                }
                writeln!(w)?;
                for (t, time) in self.times_s.iter().enumerate() {
                    write!(w, "{time}")?;
                    for v in table.row(t) {
                        write!(w, ",{v}")?;
                    }
                    writeln!(w)?;
                }
                w.flush()?;
            }
            tmp.persist(dir.join(name)).map_err(|e| e.error)?;
        }
        Ok(())
    }
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Runs a network over its duration (EPANET's `ENsolveH`) and keeps the results at its report times (from the
/// report start, every report step). `progress` is called after each solution with the time reached, s.
///
/// # Errors
/// [`WaterError`]: an invalid network, an ill-conditioned system, or (with `UNBALANCED STOP`) a solution that
/// did not converge, naming the time.
pub fn simulate(
    net: &WaterNetwork,
    mut progress: impl FnMut(i64),
) -> Result<WaterResults, WaterError> {
    let mut h = Hydraulics::new(net)?;
    let mut out = WaterResults::new(net);
    let rstep = net.times.report_step_s.max(1);
    let mut report_t = net.times.report_start_s.max(0);
    loop {
        h.solve()?;
        if h.time() >= report_t {
            out.record(report_t, &h);
            report_t += rstep;
        }
        progress(h.time());
        if h.advance() == 0 {
            break;
        }
    }
    (out.solutions, out.trials) = h.work();
    Ok(out)
}
