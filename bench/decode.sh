#!/usr/bin/env bash
# Decode benchmark: stock `xdelta3 -d` vs `deltaglider decode` on the public
# corpus, DeltaGlider's scheme (first version = source, every later version a
# target), patches made by `xdelta3 -e -9 -s` (LZMA secondary, as DeltaGlider
# writes them). Each decode runs REPS times (best wall time kept); both tools
# read the same files, write to stdout redirected to the same scratch file
# (so neither pays for an fsync), and every output is compared with the real
# target.
# Prints a markdown table (wall time, MB/s of output, CPU time, peak RSS).
# How each run is measured: see run1.
#
# usage: bench/decode.sh [series...]
#   env: DELTAGLIDER_CORPUS (default ~/.cache/deltaglider-corpus), REPS (3),
#        BENCH_WORK (scratch dir), DG_BIN (a prebuilt deltaglider binary)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${DELTAGLIDER_CORPUS:-$HOME/.cache/deltaglider-corpus}
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/deltaglider-bench-decode}
REPS=${REPS:-3}
SERIES=("$@")
[ ${#SERIES[@]} -gt 0 ] || SERIES=(gomod-x-net gomod-aws-s3 gomod-x-text elf-esbuild npm-typescript-tar sql-dump)
command -v xdelta3 >/dev/null || { echo "decode.sh: xdelta3 not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "decode.sh: python3 not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "decode.sh: /usr/bin/time (GNU time) not found" >&2; exit 1; }
mkdir -p "$WORK"
DG=${DG_BIN:-}
if [ -z "$DG" ]; then
  DG=$WORK/deltaglider
  CGO_ENABLED=0 go build -o "$DG" ./cmd/deltaglider
fi

add() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# run1 CMD...: runs CMD once with stdout to $WORK/out; prints
# "wall_s cpu_s maxrss_kb" (see bench/run1.py). The launcher's own cost, the
# same for both tools, is measured on /bin/true and printed under the table.
run1() { python3 bench/run1.py "$WORK/out" "$@"; }

# best_of CMD...: runs CMD REPS times; prints "wall user+sys maxrss_kb" of
# the fastest run (peak RSS is the max over runs). Output goes to $WORK/out.
best_of() {
  local best="" cpu="" rss=0 w c m
  for _ in $(seq "$REPS"); do
    read -r w c m < <(run1 "$@")
    if [ -z "$best" ] || lt "$w" "$best"; then best=$w; cpu=$c; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $cpu $rss"
}

printf '| series | pairs | target MB | patch MB | xdelta3 -d wall s | deltaglider wall s | xdelta3 MB/s | deltaglider MB/s | xdelta3 CPU s | deltaglider CPU s | xdelta3 peak RSS MB | deltaglider peak RSS MB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for series in "${SERIES[@]}"; do
  mapfile -t files < <(awk -F'\t' -v s="$series" '$1==s {print $3}' "$CORPUS/manifest.tsv")
  [ ${#files[@]} -ge 2 ] || { echo "decode.sh: series $series not in $CORPUS" >&2; continue; }
  src=$CORPUS/${files[0]}
  mkdir -p "$WORK/patches/$series"
  n=0 tbytes=0 pbytes=0 xw=0 gw=0 xc=0 gc=0 xr=0 gr=0
  for ((i = 1; i < ${#files[@]}; i++)); do
    tgt=$CORPUS/${files[$i]}
    p=$WORK/patches/$series/$i.vcdiff
    [ -s "$p" ] || xdelta3 -e -9 -f -s "$src" "$tgt" "$p"
    read -r w c r < <(best_of xdelta3 -d -c -s "$src" "$p")
    cmp -s "$WORK/out" "$tgt" || { echo "decode.sh: xdelta3 output differs for $p" >&2; exit 1; }
    xw=$(add "$xw" "$w"); xc=$(add "$xc" "$c"); [ "$r" -gt "$xr" ] && xr=$r
    read -r w c r < <(best_of "$DG" decode -s "$src" "$p")
    cmp -s "$WORK/out" "$tgt" || { echo "decode.sh: deltaglider output differs for $p" >&2; exit 1; }
    gw=$(add "$gw" "$w"); gc=$(add "$gc" "$c"); [ "$r" -gt "$gr" ] && gr=$r
    n=$((n + 1)); tbytes=$((tbytes + $(stat -c %s "$tgt"))); pbytes=$((pbytes + $(stat -c %s "$p")))
  done
  rm -f "$WORK/out"
  awk -v s="$series" -v n="$n" -v tb="$tbytes" -v pb="$pbytes" -v xw="$xw" -v gw="$gw" -v xc="$xc" -v gc="$gc" -v xr="$xr" -v gr="$gr" 'BEGIN {
    mb = tb / 1e6
    printf "| %s | %d | %.1f | %.2f | %.3f | %.3f | %.0f | %.0f | %.3f | %.3f | %.1f | %.1f |\n",
      s, n, mb, pb / 1e6, xw, gw, mb / xw, mb / gw, xc, gc, xr / 1024, gr / 1024 }'
done
read -r w c _ < <(REPS=5 best_of /bin/true)
rm -f "$WORK/out"
awk -v w="$w" -v c="$c" 'BEGIN { printf "\nLauncher overhead included in every run (GNU time + exec, on /bin/true): %.1f ms wall, %.1f ms CPU.\n", w * 1000, c * 1000 }'
