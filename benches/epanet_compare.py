#!/usr/bin/env python3
"""citytwin and EPANET 2.2 side by side: the same .inp files solved over their whole duration, with the time of
each and how far citytwin's heads and flows are from EPANET's at every report time.

    python3 benches/epanet_compare.py [--citytwin target/release/citytwin] [--runs 5]

EPANET is the libepanet22 library shipped in PyPI wntr 1.5.0 (as the shared references were made), called
directly through ctypes (ENopen + ENsolveH: reading and solving, hydraulics written to EPANET's scratch file as
it always does); wntr is installed into target/wntr-venv on the first run. citytwin is timed as the solver time
it reports (reading excluded) and as the wall time of `citytwin water` (process start, reading, solving and
writing the CSV files). Times are the best of --runs runs. Networks: Net1 and the small networks of
../shared/data/epanet, and wntr's Net3 (97 nodes, a week), ky10 (920 junctions) and Net6 (3,323 junctions,
four days).
"""
import argparse, csv, ctypes, os, re, subprocess, sys, tempfile, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "epanet"


def wntr_dir():
    env = ROOT / "target" / "wntr-venv"
    py = env / "bin" / "python"
    if not py.exists():
        venv.create(env, with_pip=True)
        subprocess.run([env / "bin" / "pip", "install", "-q", "wntr==1.5.0", "six"], check=True)
    out = subprocess.run([py, "-c", "import wntr, os; print(os.path.dirname(wntr.__file__))"],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


# m3/s per EPANET flow unit (CFS GPM MGD IMGD AFD LPS LPM MLD CMH CMD).
FLOW = [0.028316846592, 6.30901964e-05, 0.0438126364, 0.052616782, 0.01427641, 1e-3, 1e-3 / 60, 1e3 / 86400,
        1 / 3600, 1 / 86400]


def epanet(lib, inp, runs):
    """Best open+solve time, and heads (m) and flows (m3/s) at the report times."""
    best = 1e9
    for _ in range(runs):
        t0 = time.perf_counter()
        if lib.ENopen(str(inp).encode(), b"/tmp/epanet_compare.rpt", b""):
            return None
        lib.ENsolveH()
        best = min(best, time.perf_counter() - t0)
        lib.ENclose()
    lib.ENopen(str(inp).encode(), b"/tmp/epanet_compare.rpt", b"")
    units = ctypes.c_int(); lib.ENgetflowunits(ctypes.byref(units))
    q, length = FLOW[units.value], (1.0 if units.value >= 5 else 0.3048)
    rstep, rstart = ctypes.c_long(), ctypes.c_long()
    lib.ENgettimeparam(5, ctypes.byref(rstep)); lib.ENgettimeparam(6, ctypes.byref(rstart))
    n = ctypes.c_int()
    lib.ENgetcount(0, ctypes.byref(n)); nn = n.value
    lib.ENgetcount(2, ctypes.byref(n)); nl = n.value
    v = ctypes.c_float()
    heads, flows = {}, {}
    lib.ENopenH(); lib.ENinitH(0)
    t, step, nxt = ctypes.c_long(), ctypes.c_long(1), rstart.value
    while True:
        if lib.ENrunH(ctypes.byref(t)) > 100:
            break
        if t.value >= nxt:
            hs = []
            for i in range(1, nn + 1):
                lib.ENgetnodevalue(i, 10, ctypes.byref(v)); hs.append(v.value * length)
            fs = []
            for i in range(1, nl + 1):
                lib.ENgetlinkvalue(i, 8, ctypes.byref(v)); fs.append(v.value * q)
            heads[nxt], flows[nxt] = hs, fs
            nxt += rstep.value
        lib.ENnextH(ctypes.byref(step))
        if step.value <= 0:
            break
    lib.ENcloseH(); lib.ENclose()
    return best, heads, flows


def citytwin(exe, inp, runs, out):
    best_wall, best_solve, line = 1e9, 1e9, ""
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run([exe, "water", inp, "--out", out, "--force"], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode:
            return None
        line = r.stdout.strip()
        m = re.search(r"(\d+) solutions, (\d+) trials in ([\d.]+) ms", line)
        best_wall, best_solve = min(best_wall, wall), min(best_solve, float(m.group(3)) / 1e3)
    m = re.search(r"(\d+) solutions, (\d+) trials", line)
    return best_wall, best_solve, int(m.group(1)), int(m.group(2))


def table(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return {int(r[0]): [float(x) for x in r[1:]] for r in rows[1:]}


def worst(ours, theirs, floor):
    """Largest relative difference over values whose difference exceeds the absolute floor."""
    w = 0.0
    for t, row in theirs.items():
        for a, b in zip(ours.get(t, []), row):
            if abs(a - b) > floor:
                w = max(w, abs(a - b) / max(abs(b), 1e-12))
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--citytwin", default=str(ROOT / "target" / "release" / "citytwin"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not Path(a.citytwin).exists():
        sys.exit(f"{a.citytwin}: build it first (cargo build --release --bin citytwin)")
    w = wntr_dir()
    lib = ctypes.CDLL(str(w / "epanet" / "libepanet" / "linux-x64" / "libepanet22.so"))
    nets = [SHARED / "Net1.inp"] + sorted((SHARED / "small").glob("*.inp"))
    nets += [w / "library" / "networks" / f"{n}.inp" for n in ("Net3", "ky10", "Net6")]
    tmp = Path(tempfile.mkdtemp(prefix="epanet-compare-"))
    print(f"{'network':34s} {'EPANET ms':>10s} {'citytwin solve ms':>18s} {'citytwin wall ms':>17s} "
          f"{'solutions':>9s} {'µs/solution':>11s} {'worst head':>10s} {'worst flow':>10s}")
    for inp in nets:
        e = epanet(lib, inp, a.runs)
        c = citytwin(a.citytwin, str(inp), a.runs, str(tmp / inp.stem))
        if e is None or c is None:
            print(f"{inp.stem:34s} refused by {'EPANET' if e is None else ''}{' and ' if e is None and c is None else ''}{'citytwin' if c is None else ''}")
            continue
        ep, heads, flows = e
        wall, solve, sols, _trials = c
        wh = worst(table(tmp / inp.stem / "node_head_m.csv"), heads, 1.5e-6)
        wf = worst(table(tmp / inp.stem / "link_flow_m3s.csv"), flows, 1e-6)
        print(f"{inp.stem:34s} {ep * 1e3:10.2f} {solve * 1e3:18.2f} {wall * 1e3:17.1f} {sols:9d} "
              f"{solve / sols * 1e6:11.1f} {wh:10.1e} {wf:10.1e}")


if __name__ == "__main__":
    main()
