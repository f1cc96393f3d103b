#!/usr/bin/env bash
# Import at scale: the figures docs/benchmarks.md quotes.
#
# Generates a city of N buildings (default 1,000,000), exports its buildings to GeoJSON (454 MB at 1M), imports
# that file RUNS times and prints each run's wall time, stage times, peak memory and features per second, then
# the scene file's size and, when GDAL's ogr2ogr is installed, the time it takes to convert the same file to
# FlatGeobuf. Data goes to DIR (default: a fresh temporary directory; give DIR to reuse the GeoJSON between runs).
#
#   benches/import_scale.sh                 # N=1000000 RUNS=5
#   N=200000 RUNS=3 DIR=/tmp/scale benches/import_scale.sh
#
# Needs GNU time (/usr/bin/time, Debian package `time`) for the peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-5}
DIR=${DIR:-$(mktemp -d)}
mkdir -p "$DIR"
cargo build --release --quiet
BIN=target/release/citytwin
if [ ! -s "$DIR/b.geojson" ]; then
    "$BIN" generate --buildings "$N" --out "$DIR/city.twin" >/dev/null
    "$BIN" export "$DIR/city.twin" --layer buildings --out "$DIR/b.geojson" --force >/dev/null
fi
features=$(grep -c '"type": "Feature"' "$DIR/b.geojson" || true)
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }
echo "input: $DIR/b.geojson, $(mb "$DIR/b.geojson"), $features features"
for i in $(seq "$RUNS"); do
    rm -f "$DIR/t.twin"
    /usr/bin/time -f "%e %M" -o "$DIR/time" "$BIN" -v import "$DIR/b.geojson" --out "$DIR/t.twin" \
        >/dev/null 2>"$DIR/log"
    read -r wall kb <"$DIR/time"
    stages=$(sed 's/\x1b\[[0-9;]*m//g' "$DIR/log" | grep -oE '(read|ingested|saved).*seconds=[0-9]+\.[0-9]{2}' |
        sed -E 's/ (input|layer)=[^ ]*//; s/seconds=//' | tr '\n' ' ')
    awk -v i="$i" -v w="$wall" -v kb="$kb" -v n="$features" -v s="$stages" 'BEGIN {
        printf "run %d: %.2f s, peak %.0f MB, %.0f k features/s  (%s)\n", i, w, kb * 1.024 / 1000, n / w / 1000, s }'
done
echo "scene file: $(mb "$DIR/t.twin")"
if command -v ogr2ogr >/dev/null; then
    rm -f "$DIR/b.fgb"
    /usr/bin/time -f "%e %M" -o "$DIR/time" ogr2ogr -f FlatGeobuf "$DIR/b.fgb" "$DIR/b.geojson"
    read -r wall kb <"$DIR/time"
    awk -v w="$wall" -v kb="$kb" -v n="$features" 'BEGIN {
        printf "ogr2ogr -f FlatGeobuf: %.2f s, peak %.0f MB, %.0f k features/s\n", w, kb * 1.024 / 1000, n / w / 1000 }'
fi
