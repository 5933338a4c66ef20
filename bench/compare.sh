#!/usr/bin/env bash
# bench/compare.sh: stored bytes, encode time and peak memory of deltaglider's
# encoder against xdelta3 and zstd --patch-from on the public corpus, in one
# run, DeltaGlider scheme (per series: version 0 stored whole, every later
# version stored as a delta against version 0).
#
#   bash bench/compare.sh                 # every series, every tool
#   SERIES="gomod-x-net sql-dump" TOOLS="dg6 xd3-9-none-B" bash bench/compare.sh
#
# Environment:
#   CORPUS   corpus directory (default ~/.cache/deltaglider-corpus, manifest.tsv inside)
#   SERIES   series to run (default: all in the manifest)
#   TOOLS    subset of: dg6 dg6-1 dg9 xd3-9 xd3-9-none-B xd3-def xd3-def-none zstd-3 zstd-19
#   SWAPPED  size in MiB of the swapped-halves synthetic case (default 160; 0 = skip)
#   MEM130   1 (default) = also encode a 130 MB source + 130 MB target cut from the
#            sql-dump series (source = v0..v2, target = v1..v3, each cut at 130,000,000
#            bytes) to measure peak memory against the 2x-source budget; 0 = skip
#   OUT      results directory (default bench/results); results.tsv + table.md
#   REPS     runs of each encode (default 1); the times kept are those of the run
#            with the least CPU, the peak RSS the largest of all runs
#
# Every deltaglider patch is decoded with stock `xdelta3 -d` and compared
# byte for byte; a mismatch aborts the run. Times and peak RSS come from
# bench/run1.py (whole process: wall and user+sys CPU at microsecond resolution,
# max RSS from GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CORPUS=${CORPUS:-$HOME/.cache/deltaglider-corpus}
TOOLS=${TOOLS:-"dg6 dg9 xd3-9 xd3-9-none-B xd3-def xd3-def-none zstd-3 zstd-19"}
SWAPPED=${SWAPPED:-160}
REPS=${REPS:-1}
OUT=${OUT:-$ROOT/bench/results}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

command -v xdelta3 >/dev/null || { echo "compare.sh: xdelta3 not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "compare.sh: /usr/bin/time (GNU time) not found" >&2; exit 1; }
CGO_ENABLED=0 go build -o "$WORK/deltaglider" ./cmd/deltaglider
DG=$WORK/deltaglider

if [ -z "${SERIES:-}" ]; then
  SERIES=$(awk -F'\t' 'NR>1 && !seen[$1]++ {print $1}' "$CORPUS/manifest.tsv")
fi

# log2 rounded up, for zstd's --long window.
wlog() { local n=$1 l=10; while [ $((1 << l)) -lt "$n" ]; do l=$((l + 1)); done; echo "$l"; }

# encode TOOL REF TARGET PATCH: runs one encoder REPS times under bench/run1.py and
# appends "wall cpu maxrss_kb" (the least-CPU run's times, the peak RSS) to $WORK/time.
encode() {
  local tool=$1 ref=$2 tgt=$3 patch=$4 rsz bsz wl
  rsz=$(stat -c %s "$ref")
  bsz=$(( rsz > 524288 ? rsz : 524288 ))
  wl=$(wlog $(( rsz > $(stat -c %s "$tgt") ? rsz : $(stat -c %s "$tgt") )))
  local cmd
  case $tool in
    dg6) cmd=("$DG" encode -f -s "$ref" "$tgt" "$patch") ;;
    dg6-1) cmd=("$DG" encode --concurrency 1 -f -s "$ref" "$tgt" "$patch") ;;
    dg9) cmd=("$DG" encode -9 -f -s "$ref" "$tgt" "$patch") ;;
    xd3-9) cmd=(xdelta3 -e -9 -D -f -s "$ref" "$tgt" "$patch") ;;
    xd3-9-none-B) cmd=(xdelta3 -e -9 -S none -B "$bsz" -D -f -s "$ref" "$tgt" "$patch") ;;
    xd3-def) cmd=(xdelta3 -e -D -f -s "$ref" "$tgt" "$patch") ;;
    xd3-def-none) cmd=(xdelta3 -e -S none -D -f -s "$ref" "$tgt" "$patch") ;;
    zstd-3) cmd=(zstd -q -f -3 --single-thread --long="$wl" --patch-from="$ref" "$tgt" -o "$patch") ;;
    zstd-19) cmd=(zstd -q -f -19 --single-thread --long="$wl" --patch-from="$ref" "$tgt" -o "$patch") ;;
    *) echo "unknown tool $tool" >&2; exit 1 ;;
  esac
  : > "$WORK/reps"
  for _ in $(seq "$REPS"); do
    python3 "$ROOT/bench/run1.py" /dev/null "${cmd[@]}" >> "$WORK/reps"
  done
  awk 'NR == 1 || $2 < c { w = $1; c = $2 } $3 > m { m = $3 } END { print w, c, m }' "$WORK/reps" >> "$WORK/time"
}

# check REF PATCH TARGET: stock xdelta3 -d must restore TARGET exactly.
check() {
  xdelta3 -d -D -R -c -s "$1" "$2" > "$WORK/decoded" || { echo "compare.sh: xdelta3 -d failed on $2" >&2; exit 1; }
  cmp -s "$WORK/decoded" "$3" || { echo "compare.sh: xdelta3 -d output differs for $2 ($3)" >&2; exit 1; }
}

# run_series NAME FILE...: one row per tool.
run_series() {
  local name=$1; shift
  local ref=$1; shift
  local orig; orig=$(stat -c %s "$ref")
  for f in "$@"; do orig=$((orig + $(stat -c %s "$f"))); done
  for tool in $TOOLS; do
    : > "$WORK/time"
    local stored; stored=$(stat -c %s "$ref")
    local tbytes=0
    for f in "$@"; do
      encode "$tool" "$ref" "$f" "$WORK/patch"
      stored=$((stored + $(stat -c %s "$WORK/patch")))
      tbytes=$((tbytes + $(stat -c %s "$f")))
      case $tool in dg*) check "$ref" "$WORK/patch" "$f" ;; esac
    done
    awk -v s="$name" -v t="$tool" -v n=$(( $# + 1 )) -v o="$orig" -v st="$stored" -v tb="$tbytes" '
      { w += $1; c += $2; if ($3 > m) m = $3 }
      END { printf "%s\t%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.1f\t%.1f\n", s, t, n, o, st, 100 * st / o, w, c, (c > 0 ? tb / c / 1e6 : 0), m / 1024 }' \
      "$WORK/time" | tee -a "$OUT/results.tsv"
  done
}

{
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
  echo "# date: $(date -u +%FT%TZ); go: $(go version | cut -d' ' -f3); xdelta3: $(xdelta3 -V 2>&1 | head -1 | cut -d, -f1); zstd: $(zstd --version | grep -o 'v[0-9.]*')"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# runs per encode (REPS): $REPS"
  printf 'series\ttool\tfiles\toriginal\tstored\tstored_pct\twall_s\tcpu_s\tMB_per_cpu_s\tpeak_rss_MB\n'
} > "$OUT/results.tsv"
cat "$OUT/results.tsv"

for s in $SERIES; do
  mapfile -t files < <(awk -F'\t' -v s="$s" -v d="$CORPUS" '$1 == s {print d "/" $3}' "$CORPUS/manifest.tsv")
  [ ${#files[@]} -ge 2 ] || { echo "compare.sh: series $s not in $CORPUS" >&2; continue; }
  run_series "$s" "${files[@]}"
done

if [ "$SWAPPED" -gt 0 ]; then
  # Synthetic: the target is the source with its two halves swapped.
  half=$((SWAPPED * 1024 * 1024 / 2))
  head -c "$half" /dev/urandom > "$WORK/a"
  head -c "$half" /dev/urandom > "$WORK/b"
  cat "$WORK/a" "$WORK/b" > "$WORK/swap-src"
  cat "$WORK/b" "$WORK/a" > "$WORK/swap-tgt"
  rm -f "$WORK/a" "$WORK/b"
  TOOLS=$(echo "$TOOLS" | tr ' ' '\n' | grep -E '^(dg6|dg6-1|dg9|xd3-9|xd3-9-none-B|xd3-def|zstd-3)$' | tr '\n' ' ') \
    run_series "swapped-halves-${SWAPPED}MiB" "$WORK/swap-src" "$WORK/swap-tgt"
fi

if [ "${MEM130:-1}" = 1 ]; then
  mapfile -t sq < <(awk -F'\t' -v d="$CORPUS" '$1 == "sql-dump" {print d "/" $3}' "$CORPUS/manifest.tsv")
  if [ ${#sq[@]} -ge 4 ]; then
    # (cat ... || true): head closing the pipe early must not fail the run.
    (cat "${sq[0]}" "${sq[1]}" "${sq[2]}" || true) | head -c 130000000 > "$WORK/m-src"
    (cat "${sq[1]}" "${sq[2]}" "${sq[3]}" || true) | head -c 130000000 > "$WORK/m-tgt"
    TOOLS=$(echo "$TOOLS" | tr ' ' '\n' | grep -E '^(dg6|dg6-1|dg9|xd3-def|xd3-9-none-B)$' | tr '\n' ' ') \
      run_series "sql-130MB-pair" "$WORK/m-src" "$WORK/m-tgt"
    rm -f "$WORK/m-src" "$WORK/m-tgt"
  fi
fi

# The launcher's own cost per encode (GNU time + exec), the same for every
# tool: the least of five runs of /bin/true.
launch=$(for _ in 1 2 3 4 5; do python3 "$ROOT/bench/run1.py" /dev/null /bin/true; done | sort -n -k2 | head -1)
echo "# launcher overhead in every encode (bench/run1.py on /bin/true): $(echo "$launch" | awk '{printf "%.1f ms wall, %.1f ms CPU", $1 * 1000, $2 * 1000}')" >> "$OUT/results.tsv"

# Markdown table.
{
  grep '^#' "$OUT/results.tsv" | sed 's/^# /- /'
  echo
  echo "| series | tool | stored bytes | stored % | wall s | CPU s | MB/CPU-s | peak RSS MB |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  grep -v '^#' "$OUT/results.tsv" | tail -n +2 | awk -F'\t' '{printf "| %s | %s | %d | %.3f %% | %s | %s | %s | %s |\n", $1, $2, $5, $6, $7, $8, $9, $10}'
} > "$OUT/table.md"
echo "compare.sh: wrote $OUT/results.tsv and $OUT/table.md" >&2
