#!/usr/bin/env bash
# End-to-end test of the deltaglider binary (run by `make test` after `go test`).
# On a fresh embedded store and on a fresh versitygw server, with two public corpus
# series (gomod-x-net, gomod-aws-s3): cp -r, ls -r --summarize, stats --json (figures
# checked against the sizes on disk), verify --all, sync both ways, cp -r back, rm -r,
# purge, and a migrate from a plain bucket to a delta bucket and back. Every command
# must exit 0 and every file must come back byte-identical (cmp).
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$(pwd)
CORPUS=${DELTAGLIDER_CORPUS:-$HOME/.cache/deltaglider-corpus}
SERIES=(gomod-x-net gomod-aws-s3)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dg-e2e.XXXXXX")
cleanup() {
  if declare -F vgw_stop >/dev/null; then vgw_stop; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[e2e] $*" >&2; }
fail() { echo "[e2e] FAIL: $*" >&2; exit 1; }

for s in "${SERIES[@]}"; do
  [ -d "$CORPUS/$s" ] || fail "corpus series $s missing in $CORPUS (run scripts/fetch-test-corpus.sh)"
done

log "building deltaglider"
CGO_ENABLED=0 go build -o "$WORK/deltaglider" ./cmd/deltaglider
export DG_CACHE_DIR="$WORK/cache" DG_STORE_DIR= DG_MAX_RATIO=

# The input tree: one directory per series, files in version order.
IN="$WORK/in"
nfiles=0
for s in "${SERIES[@]}"; do
  mkdir -p "$IN/$s"
  while IFS=$'\t' read -r series _ path _; do
    [ "$series" = "$s" ] || continue
    cp "$CORPUS/$path" "$IN/$s/"
    nfiles=$((nfiles + 1))
  done < "$CORPUS/manifest.tsv"
done
in_bytes=$(find "$IN" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
log "input: $nfiles files, $in_bytes bytes"

# same_tree A B: identical file lists, every file equal by cmp.
same_tree() {
  local a=$1 b=$2 f
  diff <(cd "$a" && find . -type f | sort) <(cd "$b" && find . -type f | sort) >/dev/null ||
    fail "file lists of $a and $b differ"
  while IFS= read -r f; do
    cmp -s "$a/$f" "$b/$f" || fail "$b/$f differs from $a/$f"
  done < <(cd "$a" && find . -type f | sort)
}

# stored_on_disk DIR: bytes of the object files under DIR (store internals excluded).
stored_on_disk() {
  find "$1" -name '.*' -prune -o -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'
}

# flow NAME DATA_DIR FLAGS...: the whole scenario on one backend. DATA_DIR is where
# the backend keeps bucket directories (to check the stats against the disk).
flow() {
  local name=$1 data=$2; shift 2
  local dg=("$WORK/deltaglider" "$@")
  local out="$WORK/out-$name"
  mkdir -p "$out"
  log "[$name] mb, cp -r"
  "${dg[@]}" mb s3://e2e >/dev/null
  "${dg[@]}" --quiet cp -r "$IN" s3://e2e/corpus/

  log "[$name] ls -r --summarize"
  "${dg[@]}" ls -r --summarize s3://e2e/corpus/ > "$out/ls.txt"
  grep -q "^Total Objects: $nfiles\$" "$out/ls.txt" || fail "[$name] ls: $(tail -2 "$out/ls.txt")"
  grep -q "^   Total Size: $in_bytes\$" "$out/ls.txt" || fail "[$name] ls total size is not the original size $in_bytes"
  if grep -q -e reference.bin -e '\.delta$' "$out/ls.txt"; then fail "[$name] ls shows internals"; fi

  log "[$name] stats --json"
  "${dg[@]}" stats --json s3://e2e > "$out/stats.json"
  local disk
  disk=$(stored_on_disk "$data/e2e")
  python3 - "$out/stats.json" "$in_bytes" "$disk" "$nfiles" "$name" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
orig, disk, n, name = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def check(ok, what):
    if not ok:
        sys.exit(f"[e2e] FAIL: [{name}] stats: {what}: {st}")
check(st["objects"] == n, f"objects != {n}")
check(st["original_bytes"] == orig, f"original_bytes != {orig} bytes of input files")
check(st["stored_bytes"] == disk, f"stored_bytes != {disk} bytes on disk")
want = 1 - disk / orig
check(abs(st["savings"] - want) < 1e-9, f"savings != 1 - disk/original = {want}")
check(st["references"] == 2 and len(st["deltaspaces"]) == 2, "want 2 deltaspaces with a reference each")
check(st["savings"] > 0.5, "savings below 50% on versioned Go module zips")
print(f"[e2e] [{name}] stats: {st['original_bytes']} original bytes, {st['stored_bytes']} stored "
      f"(= on disk), savings {100*st['savings']:.1f}%", file=sys.stderr)
PY

  log "[$name] verify --all"
  "${dg[@]}" --quiet verify --all s3://e2e

  log "[$name] sync store -> local, cp -r store -> local"
  "${dg[@]}" --quiet sync s3://e2e/corpus/ "$out/down"
  same_tree "$IN" "$out/down"
  "${dg[@]}" --quiet cp -r s3://e2e/corpus/ "$out/cp"
  same_tree "$IN" "$out/cp"

  log "[$name] sync local -> store (one file changed, one added, one removed, --delete)"
  local first last
  first=$(ls "$out/down/gomod-x-net" | head -1)
  last=$(ls "$out/down/gomod-x-net" | tail -1)
  cp "$out/down/gomod-aws-s3/$(ls "$out/down/gomod-aws-s3" | head -1)" "$out/down/gomod-x-net/extra.zip"
  rm "$out/down/gomod-x-net/$first"
  cp "$IN/gomod-x-net/$first" "$out/down/gomod-x-net/$last"  # same name, other content
  "${dg[@]}" sync --delete "$out/down" s3://e2e/corpus/ > "$out/sync-up.txt"
  [ "$(grep -c '^upload: ' "$out/sync-up.txt")" = 2 ] || fail "[$name] sync up: $(cat "$out/sync-up.txt")"
  [ "$(grep -c '^delete: ' "$out/sync-up.txt")" = 1 ] || fail "[$name] sync up --delete: $(cat "$out/sync-up.txt")"
  "${dg[@]}" --quiet sync --delete s3://e2e/corpus/ "$out/down2"
  same_tree "$out/down" "$out/down2"
  "${dg[@]}" --quiet verify --all s3://e2e

  log "[$name] rm -r, purge"
  "${dg[@]}" --quiet rm -r s3://e2e/corpus/
  [ -z "$("${dg[@]}" ls -r s3://e2e)" ] || fail "[$name] objects left after rm -r"
  [ "$(stored_on_disk "$data/e2e")" = 0 ] || fail "[$name] rm -r left files: $(find "$data/e2e" -name '.*' -prune -o -type f -print)"
  "${dg[@]}" --quiet purge s3://e2e
  "${dg[@]}" rb s3://e2e >/dev/null

  log "[$name] migrate plain bucket -> delta bucket -> plain bucket"
  "${dg[@]}" mb s3://plain >/dev/null
  "${dg[@]}" mb s3://deltas >/dev/null
  "${dg[@]}" mb s3://back >/dev/null
  "${dg[@]}" --quiet cp -r --plain "$IN" s3://plain/
  [ "$(stored_on_disk "$data/plain")" = "$in_bytes" ] || fail "[$name] plain upload is not $in_bytes bytes"
  "${dg[@]}" --quiet migrate --yes s3://plain s3://deltas
  "${dg[@]}" --quiet verify --all s3://deltas
  python3 -c 'import json,sys; st=json.load(sys.stdin); sys.exit(0 if st["savings"] > 0.5 and st["original_bytes"] == int(sys.argv[1]) else f"[e2e] FAIL: migrated bucket {st}")' \
    "$in_bytes" < <("${dg[@]}" stats --json s3://deltas)
  "${dg[@]}" migrate --yes s3://plain s3://deltas | grep -q "$nfiles unchanged skipped" || fail "[$name] migrate did not resume"
  "${dg[@]}" --quiet migrate --yes --plain s3://deltas s3://back
  [ "$(stored_on_disk "$data/back")" = "$in_bytes" ] || fail "[$name] plain bucket after migrating back is not $in_bytes bytes"
  "${dg[@]}" --quiet cp -r s3://back/ "$out/back"
  same_tree "$IN" "$out/back"
  for b in plain deltas back; do "${dg[@]}" rb --force "s3://$b" >/dev/null; done
  log "[$name] passed"
}

flow embedded "$WORK/store" --store-dir "$WORK/store"

# A fresh versitygw of our own, so its data directory can be inspected.
# shellcheck source=scripts/versitygw.sh
. "$HERE/scripts/versitygw.sh"
VGW_PORT=
vgw_start
flow versitygw "$VGW_DATA" --endpoint-url "$DELTAGLIDER_S3_ENDPOINT"
log "all passed"
