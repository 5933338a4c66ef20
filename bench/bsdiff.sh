#!/usr/bin/env bash
# bench/bsdiff.sh: package bsdiff against Debian bsdiff 4.3, Matthew Endsley's
# bsdiff (the C code that cgo bindings such as icedream/go-bsdiff wrap),
# xdelta3 -9 (the VCDIFF path of the Python DeltaGlider), deltaglider's own
# VCDIFF encoder (bench/stored) and zstd -19 --patch-from, on the elf-esbuild series in the
# DeltaGlider scheme (version 0 is the reference, every later version is a
# delta against it). Prints a markdown table on stdout.
#
#   bash bench/bsdiff.sh
#   LIMIT=2 TOOLS="ours bsdiff" bash bench/bsdiff.sh
#
# Environment:
#   CORPUS  corpus directory (default ~/.cache/deltaglider-corpus)
#   SERIES  series name (default elf-esbuild)
#   LIMIT   only the first LIMIT later versions (default: all)
#   TOOLS   subset of: ours ours43 bsdiff endsley xd3-9 dg-vcdiff zstd-19
#           (default: all but ours43; endsley only when its binary exists)
#   ENDSLEY_BSDIFF  Endsley's bsdiff (default: $DELTAGLIDER_ENDSLEY_BSDIFF, else
#           where scripts/test.sh builds it from npm node-bsdiff)
#
# ours = bsdiff.Diff in BSDIFF40, ours43 = the same in ENDSLEY/BSDIFF43 (the
# format endsley writes). Every patch of ours is applied with Debian bspatch
# (BSDIFF40) and with our decoder and compared byte for byte, and so is every
# endsley patch by our decoder; a mismatch aborts the run. Time is user+sys CPU seconds and peak RSS
# from /usr/bin/time -v (whole process).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-$HOME/.cache/deltaglider-corpus}
SERIES=${SERIES:-elf-esbuild}
ENDSLEY_BSDIFF=${ENDSLEY_BSDIFF:-${DELTAGLIDER_ENDSLEY_BSDIFF:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaglider-tools/node-bsdiff-0.1.9/bsdiff}}
if [ -z "${TOOLS:-}" ]; then
	TOOLS="ours bsdiff xd3-9 dg-vcdiff zstd-19"
	if [ -x "$ENDSLEY_BSDIFF" ]; then TOOLS+=" endsley"; else echo "no Endsley bsdiff at $ENDSLEY_BSDIFF: endsley column dropped" >&2; fi
fi
LIMIT=${LIMIT:-0}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

has() { [[ " $TOOLS " == *" $1 "* ]]; }

mapfile -t FILES < <(awk -F'\t' -v s="$SERIES" '$1==s {print $3}' "$CORPUS/manifest.tsv")
[ "${#FILES[@]}" -ge 2 ] || { echo "series $SERIES not in $CORPUS" >&2; exit 1; }
REF=$CORPUS/${FILES[0]}
TARGETS=("${FILES[@]:1}")
[ "$LIMIT" -gt 0 ] && TARGETS=("${TARGETS[@]:0:$LIMIT}")

go build -o "$WORK/bsdiffbench" ./bench/bsdiffbench

# measure NAME CMD...: runs CMD under /usr/bin/time -v, sets CPU and RSS_MB.
measure() {
	/usr/bin/time -v -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
		echo "failed: $*" >&2; cat "$WORK/stderr" >&2; exit 1; }
	CPU=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u+s}' "$WORK/time")
	RSS_MB=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$WORK/time")
}

declare -A SIZE SECS MEM
if has dg-vcdiff; then
	mkdir -p "$WORK/vc"
	if ! go run ./bench/stored -corpus "$CORPUS" -out "$WORK/vc" "$SERIES" >/dev/null; then
		echo "bench/stored failed: dg-vcdiff column dropped" >&2
		TOOLS=${TOOLS/dg-vcdiff/}
	fi
fi
for rel in "${TARGETS[@]}"; do
	tgt=$CORPUS/$rel
	v=$(basename "$rel")
	if has ours; then
		measure "$WORK/bsdiffbench" diff "$REF" "$tgt" "$WORK/ours"
		SIZE[ours,$v]=$(stat -c %s "$WORK/ours"); SECS[ours,$v]=$CPU; MEM[ours,$v]=$RSS_MB
		measure bspatch "$REF" "$WORK/ours.new" "$WORK/ours"
		SECS[bspatch,$v]=$CPU; MEM[bspatch,$v]=$RSS_MB
		cmp -s "$WORK/ours.new" "$tgt" || { echo "MISMATCH: bspatch of our patch for $v" >&2; exit 1; }
		measure "$WORK/bsdiffbench" patch "$REF" "$WORK/ours" "$WORK/ours.new2"
		SECS[ours-dec,$v]=$CPU; MEM[ours-dec,$v]=$RSS_MB
		cmp -s "$WORK/ours.new2" "$tgt" || { echo "MISMATCH: our decode of our patch for $v" >&2; exit 1; }
	fi
	if has ours43; then
		measure "$WORK/bsdiffbench" diff -format BSDIFF43 "$REF" "$tgt" "$WORK/ours43"
		SIZE[ours43,$v]=$(stat -c %s "$WORK/ours43"); SECS[ours43,$v]=$CPU; MEM[ours43,$v]=$RSS_MB
		"$WORK/bsdiffbench" patch "$REF" "$WORK/ours43" "$WORK/ours43.new"
		cmp -s "$WORK/ours43.new" "$tgt" || { echo "MISMATCH: our decode of our BSDIFF43 patch for $v" >&2; exit 1; }
	fi
	if has endsley; then
		measure "$ENDSLEY_BSDIFF" "$REF" "$tgt" "$WORK/endsley"
		SIZE[endsley,$v]=$(stat -c %s "$WORK/endsley"); SECS[endsley,$v]=$CPU; MEM[endsley,$v]=$RSS_MB
		"$WORK/bsdiffbench" patch "$REF" "$WORK/endsley" "$WORK/endsley.new"
		cmp -s "$WORK/endsley.new" "$tgt" || { echo "MISMATCH: our decode of Endsley's patch for $v" >&2; exit 1; }
	fi
	if has bsdiff; then
		measure bsdiff "$REF" "$tgt" "$WORK/deb"
		SIZE[bsdiff,$v]=$(stat -c %s "$WORK/deb"); SECS[bsdiff,$v]=$CPU; MEM[bsdiff,$v]=$RSS_MB
	fi
	if has xd3-9; then
		measure xdelta3 -e -9 -f -s "$REF" "$tgt" "$WORK/xd3"
		SIZE[xd3-9,$v]=$(stat -c %s "$WORK/xd3"); SECS[xd3-9,$v]=$CPU; MEM[xd3-9,$v]=$RSS_MB
	fi
	if has zstd-19; then
		measure zstd -q -f -19 --single-thread --patch-from="$REF" "$tgt" -o "$WORK/zst"
		SIZE[zstd-19,$v]=$(stat -c %s "$WORK/zst"); SECS[zstd-19,$v]=$CPU; MEM[zstd-19,$v]=$RSS_MB
	fi
	if has dg-vcdiff; then
		SIZE[dg-vcdiff,$v]=$(stat -c %s "$WORK/vc/$v.vcdiff")
	fi
done

pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f %%", 100*a/b}'; }
cols=()
for t in ours ours43 bsdiff endsley xd3-9 dg-vcdiff zstd-19; do has "$t" && cols+=("$t"); done
hdr="| version | target bytes |"; sep="|---|---|"
for t in "${cols[@]}"; do hdr+=" $t |"; sep+="---|"; done
echo "Patch size (% of target); ours = package bsdiff, BSDIFF40; ours43 = the same, ENDSLEY/BSDIFF43:"
echo
echo "$hdr"; echo "$sep"
declare -A TOT
TOTT=0
for rel in "${TARGETS[@]}"; do
	v=$(basename "$rel"); n=$(stat -c %s "$CORPUS/$rel"); TOTT=$((TOTT+n))
	row="| $v | $n |"
	for t in "${cols[@]}"; do
		s=${SIZE[$t,$v]}; TOT[$t]=$(( ${TOT[$t]:-0} + s ))
		row+=" $s ($(pct "$s" "$n")) |"
	done
	echo "$row"
done
row="| **all deltas** | $TOTT |"
for t in "${cols[@]}"; do row+=" ${TOT[$t]} ($(pct "${TOT[$t]}" "$TOTT")) |"; done
echo "$row"
R=$(stat -c %s "$REF")
row="| **series stored** (v0 whole + deltas) | $((TOTT+R)) |"
for t in "${cols[@]}"; do row+=" $(pct $(( ${TOT[$t]} + R )) $((TOTT+R))) |"; done
echo "$row"
echo
echo "Encode CPU seconds (user+sys) / peak RSS MB; decode of our patch by us (ours-dec) and by Debian bspatch:"
echo
hdr="| version |"; sep="|---|"
tcols=()
for t in ours ours43 bsdiff endsley xd3-9 zstd-19; do has "$t" && { tcols+=("$t"); hdr+=" $t |"; sep+="---|"; }; done
if has ours; then tcols+=(ours-dec bspatch); hdr+=" ours-dec | bspatch |"; sep+="---|---|"; fi
echo "$hdr"; echo "$sep"
for rel in "${TARGETS[@]}"; do
	v=$(basename "$rel"); row="| $v |"
	for t in "${tcols[@]}"; do row+=" ${SECS[$t,$v]} s / ${MEM[$t,$v]} MB |"; done
	echo "$row"
done
