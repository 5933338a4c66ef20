#!/usr/bin/env bash
# `make demo`: the README quick start, on real files and the embedded store (no server).
# Four consecutive releases of golang.org/x/text (module zips, ~9 MB each) go into
# s3://demo/x-text/ as one reference plus deltas; then ls, stats, and one release
# comes back byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
DG=${DG:-$(pwd)/bin/deltaglider}
[ -x "$DG" ] || CGO_ENABLED=0 go build -o "$DG" ./cmd/deltaglider
VERSIONS=(v0.20.0 v0.21.0 v0.22.0 v0.23.0)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dg-demo.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export DG_CACHE_DIR="$WORK/cache" DG_STORE_DIR= DG_MAX_RATIO=
STORE="$WORK/store"
mkdir -p "$WORK/zips"

# The zips: from the test corpus when it is there, else from the Go module proxy.
CORPUS=${DELTAGLIDER_CORPUS:-$HOME/.cache/deltaglider-corpus}
for v in "${VERSIONS[@]}"; do
  if [ -f "$CORPUS/gomod-x-text/text-$v.zip" ]; then
    cp "$CORPUS/gomod-x-text/text-$v.zip" "$WORK/zips/"
  else
    zip=$(GOMODCACHE="$WORK/gomodcache" GOFLAGS=-modcacherw go mod download -json "golang.org/x/text@$v" |
      sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p')
    cp "$zip" "$WORK/zips/text-$v.zip"
  fi
done

show() {
  echo
  echo "\$ deltaglider $*" | sed "s#$WORK#\$DEMO#g"
  "$DG" --store-dir "$STORE" "$@" | sed "s#$WORK#\$DEMO#g"
}

echo "Four releases of golang.org/x/text, $(du -cb "$WORK"/zips/*.zip | tail -1 | cut -f1) bytes in all:"
ls -l "$WORK/zips" | sed "s#$WORK#\$DEMO#g"
echo
echo "Using the embedded store in \$DEMO/store (--store-dir; no S3 server needed)."
show mb s3://demo
for v in "${VERSIONS[@]}"; do
  show cp "$WORK/zips/text-$v.zip" s3://demo/x-text/
done
show ls -h --summarize s3://demo/x-text/
show stats s3://demo
show verify --all s3://demo
show cp s3://demo/x-text/text-v0.22.0.zip "$WORK/restored.zip"
cmp "$WORK/zips/text-v0.22.0.zip" "$WORK/restored.zip"
echo
echo "cmp: text-v0.22.0.zip came back byte-identical."
echo "Bytes on disk in the store: $(find "$STORE/demo" -name '.*' -prune -o -type f -printf '%s\n' | awk '{s+=$1} END {print s}') (originals: $(du -cb "$WORK"/zips/*.zip | tail -1 | cut -f1))."
