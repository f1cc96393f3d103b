#!/usr/bin/env python3
"""citytwin and pandapower side by side on the shared pandapower networks (../shared/data/power): pandapower's
`pp.runpp` timed in-process (median of --pp-runs runs after one warm-up), `citytwin power` timed as a process
(median of --runs runs, process start, JSON reading and CSV writing included), and citytwin's worst difference
from pandapower's reference tables per network.

    python3 benches/pandapower_compare.py [--citytwin target/release/citytwin] [--runs 5] [--pp-runs 20]

pandapower 3.5.6 (the version of the reference tables) comes from PyPI, installed into target/pp-venv on the first
run; numba, pandapower's optional accelerator, is not installed (pandapower says so and runs its pure-Python
path), unless --numba is given.
"""
import argparse, csv, json, math, os, statistics, subprocess, sys, tempfile, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "power"
NETWORKS = ["example_simple", "cigre_lv", "simple_mv_open_ring"]

PP_TIMER = r"""
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import logging; logging.disable(logging.WARNING)
import pandapower as pp
runs = int(sys.argv[1]); out = {}
for path in sys.argv[2:]:
    net = pp.from_json(path)
    pp.runpp(net)  # warm-up (imports, numba compilation)
    walls = []
    for _ in range(runs):
        t = time.perf_counter(); pp.runpp(net); walls.append(time.perf_counter() - t)
    out[path] = {"median_s": statistics.median(walls), "iterations": int(net._ppc["iterations"]),
                 "converged": bool(net.converged)}
try:
    import numba; out["numba"] = numba.__version__
except ImportError:
    out["numba"] = None
out["pandapower"] = pp.__version__
print(json.dumps(out))
"""


def python_with_pandapower(numba):
    env = ROOT / "target" / "pp-venv"
    py = env / "bin" / "python"
    if not py.exists():
        venv.create(env, with_pip=True)
    have = subprocess.run([py, "-c", "import pandapower, sys; sys.exit(pandapower.__version__ != '3.5.6')"],
                          stderr=subprocess.DEVNULL).returncode == 0
    if not have:
        subprocess.run([env / "bin" / "pip", "install", "-q", "pandapower==3.5.6"], check=True)
    if numba:
        subprocess.run([env / "bin" / "pip", "install", "-q", "numba"], check=True)
    return py


def timed(cmd, runs):
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        rows = {row[0]: [float(v) if v else math.nan for v in row[1:]] for row in r}
    return header[1:], rows


def worst_differences(refdir, outdir):
    """Largest |citytwin − pandapower| per column kind over all tables: vm, va, loading, p/q, i."""
    kinds = {"vm": 0.0, "va": 0.0, "loading": 0.0, "pq": 0.0, "i": 0.0}
    for f in sorted(os.listdir(refdir)):
        if not f.startswith("res_"):
            continue
        cols, want = read_csv(refdir / f)
        _, got = read_csv(outdir / f)
        for c, name in enumerate(cols):
            kind = ("vm" if name.startswith("vm_") else "va" if name.startswith("va_") else
                    "loading" if name.startswith("loading") else "i" if name.endswith("_ka") else "pq")
            for idx, w in want.items():
                a, b = w[c], got[idx][c]
                if math.isnan(a) and math.isnan(b):
                    continue
                kinds[kind] = max(kinds[kind], abs(a - b) if not (math.isnan(a) or math.isnan(b)) else math.inf)
    return kinds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--citytwin", default=str(ROOT / "target" / "release" / "citytwin"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pp-runs", type=int, default=20)
    ap.add_argument("--numba", action="store_true", help="install numba into the venv too")
    a = ap.parse_args()
    if not Path(a.citytwin).exists():
        sys.exit(f"{a.citytwin}: build it first (cargo build --release --bin citytwin)")
    py = python_with_pandapower(a.numba)
    paths = [str(DATA / n / f"{n}.json") for n in NETWORKS]
    pp = json.loads(subprocess.run([py, "-c", PP_TIMER, str(a.pp_runs), *paths], check=True,
                                   capture_output=True, text=True).stdout.strip().splitlines()[-1])
    tmp = Path(tempfile.mkdtemp(prefix="pp-compare-"))
    print(f"pandapower {pp['pandapower']} (numba {pp['numba'] or 'not installed'}), citytwin {a.citytwin}")
    print(f"{'network':<22}{'pandapower runpp':>18}{'it':>4}{'citytwin power':>16}{'it':>4}"
          f"{'|Δvm| pu':>11}{'|Δva| °':>11}{'|Δloading| %':>14}{'|Δp,q| MW':>11}{'|Δi| kA':>11}")
    for name, path in zip(NETWORKS, paths):
        out = tmp / name
        cmd = [a.citytwin, "power", path, "--out", str(out), "--force"]
        summary = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        it = summary.split("converged in ")[1].split()[0]
        wall = timed(cmd, a.runs)
        w = worst_differences(DATA / name, out)
        p = pp[path]
        print(f"{name:<22}{p['median_s'] * 1e3:>15.2f} ms{p['iterations']:>4}{wall * 1e3:>13.2f} ms{it:>4}"
              f"{w['vm']:>11.1e}{w['va']:>11.1e}{w['loading']:>14.1e}{w['pq']:>11.1e}{w['i']:>11.1e}")


if __name__ == "__main__":
    main()
