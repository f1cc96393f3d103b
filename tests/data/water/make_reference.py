"""EPANET 2.2 reference hydraulics for citytwin's own water test networks (this folder).

Runs EPANET 2.2 directly (the libepanet22 shared library shipped in PyPI `wntr` 1.5.0, through ctypes: no
rewrite of the .inp by WNTR) and writes NAME_reference/{node_head_m,node_pressure_m,node_demand_m3s,
link_flow_m3s}.csv: one row per report time (column time_s), one column per node or link id, SI units, the
layout of ../../../../shared/data/epanet. Values are EPANET's single-precision report values.

    python3 -m venv venv && venv/bin/pip install wntr==1.5.0 six
    venv/bin/python make_reference.py rules_dw.inp pda_cm.inp
"""
import ctypes, os, sys
import wntr

LIB = ctypes.CDLL(os.path.join(os.path.dirname(wntr.__file__), "epanet/libepanet/linux-x64/libepanet22.so"))
# m3/s per EPANET flow unit (CFS GPM MGD IMGD AFD LPS LPM MLD CMH CMD), as WNTR converts them.
FLOW = [0.028316846592, 6.30901964e-05, 0.0438126364, 0.052616782, 0.01427641, 1e-3, 1e-3 / 60, 1e3 / 86400,
        1 / 3600, 1 / 86400]
EN_DEMAND, EN_HEAD, EN_PRESSURE, EN_FLOW = 9, 10, 11, 8

def run(inp):
    name = os.path.splitext(os.path.basename(inp))[0]
    out = f"{name}_reference"
    os.makedirs(out, exist_ok=True)
    err = LIB.ENopen(inp.encode(), f"/tmp/{name}.rpt".encode(), b"")
    if err:
        raise SystemExit(f"{inp}: EPANET error {err}")
    units = ctypes.c_int(); LIB.ENgetflowunits(ctypes.byref(units))
    q = FLOW[units.value]
    length = 1.0 if units.value >= 5 else 0.3048
    rstep, rstart = ctypes.c_long(), ctypes.c_long()
    LIB.ENgettimeparam(5, ctypes.byref(rstep)); LIB.ENgettimeparam(6, ctypes.byref(rstart))
    n = ctypes.c_int()
    LIB.ENgetcount(0, ctypes.byref(n)); nn = n.value
    LIB.ENgetcount(2, ctypes.byref(n)); nl = n.value
    buf = ctypes.create_string_buffer(64)
    nodes, links, elev = [], [], []
    v = ctypes.c_float()
    for i in range(1, nn + 1):
        LIB.ENgetnodeid(i, buf); nodes.append(buf.value.decode())
        LIB.ENgetnodevalue(i, 0, ctypes.byref(v)); elev.append(v.value * length)
    for i in range(1, nl + 1):
        LIB.ENgetlinkid(i, buf); links.append(buf.value.decode())
    files = {k: open(f"{out}/{k}.csv", "w") for k in ("node_head_m", "node_pressure_m", "node_demand_m3s", "link_flow_m3s")}
    for k, f in files.items():
        f.write("time_s," + ",".join(links if k.startswith("link") else nodes) + "\n")
    LIB.ENopenH(); LIB.ENinitH(0)
    t, step, nxt = ctypes.c_long(), ctypes.c_long(1), rstart.value
    while True:
        err = LIB.ENrunH(ctypes.byref(t))
        if err > 100:
            raise SystemExit(f"{inp}: EPANET error {err} at {t.value} s")
        if t.value >= nxt:
            head = []
            for i in range(1, nn + 1):
                LIB.ENgetnodevalue(i, EN_HEAD, ctypes.byref(v)); head.append(v.value * length)
            dem = []
            for i in range(1, nn + 1):
                LIB.ENgetnodevalue(i, EN_DEMAND, ctypes.byref(v)); dem.append(v.value * q)
            flow = []
            for i in range(1, nl + 1):
                LIB.ENgetlinkvalue(i, EN_FLOW, ctypes.byref(v)); flow.append(v.value * q)
            rows = {"node_head_m": head, "node_pressure_m": [h - e for h, e in zip(head, elev)],
                    "node_demand_m3s": dem, "link_flow_m3s": flow}
            for k, f in files.items():
                f.write(f"{nxt}," + ",".join(f"{x:.9g}" for x in rows[k]) + "\n")
            nxt += rstep.value
        LIB.ENnextH(ctypes.byref(step))
        if step.value <= 0:
            break
    LIB.ENcloseH(); LIB.ENclose()
    print(f"{name}: {nn} nodes, {nl} links")

for inp in sys.argv[1:]:
    run(inp)
