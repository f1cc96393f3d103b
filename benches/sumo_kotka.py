#!/usr/bin/env python3
"""citytwin and SUMO side by side on SUMO's Kotka scenario (../shared/data/sumo/kotka): the same network and the
same 1,200 trips over one hour, SUMO's microscopic and mesoscopic models and citytwin's queue model, with the
wall time of each and their results.

    python3 benches/sumo_kotka.py [--citytwin target/release/citytwin] [--runs 5]

SUMO comes from PyPI (eclipse-sumo 1.28.0, as the reference was made), installed into target/sumo-venv on the
first run. Wall times are the median of --runs runs of each command, process start included.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "sumo" / "kotka"


def sumo_binary():
    env = ROOT / "target" / "sumo-venv"
    exe = env / "bin" / "sumo"
    if not exe.exists():
        venv.create(env, with_pip=True)
        subprocess.run([env / "bin" / "pip", "install", "-q", "eclipse-sumo==1.28.0"], check=True)
    return exe


def timed(cmd, runs):
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def tripinfo(path):
    text = Path(path).read_text()
    durs = [float(x) for x in re.findall(r'<tripinfo [^>]*duration="([\d.]+)"', text)]
    lens = [float(x) for x in re.findall(r'<tripinfo [^>]*routeLength="([\d.]+)"', text)]
    return len(durs), statistics.mean(durs), statistics.mean(lens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--citytwin", default=str(ROOT / "target" / "release" / "citytwin"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not Path(a.citytwin).exists():
        sys.exit(f"{a.citytwin}: build it first (cargo build --release --bin citytwin)")
    sumo = sumo_binary()
    tmp = Path(tempfile.mkdtemp(prefix="sumo-kotka-"))
    rows = []
    for name, extra in [("SUMO 1.28 micro", []), ("SUMO 1.28 meso", ["--mesosim"])]:
        out = tmp / f"{name.split()[-1]}.xml"
        cmd = [sumo, "-n", DATA / "kotka.net.xml", "-r", DATA / "rou.xml", "-b", "0", "-e", "3600",
               "--seed", "42", "--no-step-log", "--tripinfo-output", out, *extra]
        wall = timed(cmd, a.runs)
        n, d, l = tripinfo(out)
        rows.append((name, wall, n, d, l))
    scene = tmp / "k.twin"
    subprocess.run([a.citytwin, "import", DATA / "kotka.net.xml", "--out", scene], check=True,
                   stdout=subprocess.DEVNULL)
    for demand in ["rou.xml", "trips.xml"]:
        run = tmp / demand
        cmd = [a.citytwin, "simulate", scene, "--trips", DATA / demand, "--end", "1h", "--out", run, "--force"]
        wall = timed(cmd, a.runs)
        k = json.loads((run / "kpi.json").read_text())
        rows.append((f"citytwin ({demand})", wall, int(k["car_trips_arrived"]), k["mean_car_trip_s"],
                     k["mean_car_trip_m"]))
    print(f"{'engine':<26} {'wall s':>8} {'arrived':>8} {'mean trip s':>12} {'mean route m':>13}")
    for r in rows:
        print(f"{r[0]:<26} {r[1]:>8.3f} {r[2]:>8} {r[3]:>12.2f} {r[4]:>13.1f}")
    print(f"(median of {a.runs} runs each, process start included; {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
