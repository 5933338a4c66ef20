#!/usr/bin/env bash
# Fetch the part of the public corpus that `make test` uses (about 60 MB): Go module
# zips of golang.org/x/net and aws-sdk-go-v2/service/s3 from the module proxy, and two
# esbuild releases from npm. Same layout and manifest format as
# ../shared/corpus/fetch-corpus.sh, which builds the whole ~1 GB corpus for benchmarks.
set -euo pipefail
DATA="${DELTAGLIDER_CORPUS:-$HOME/.cache/deltaglider-corpus}"
mkdir -p "$DATA"
export GOMODCACHE="$DATA/.gomodcache" GOFLAGS=-modcacherw GOTOOLCHAIN=local
manifest="$DATA/manifest.tsv"
[ -f "$manifest" ] || printf 'series\tversion\tfile\tbytes\tsha256\tsource\n' > "$manifest"
add() { # series version relpath source
  grep -q "	$3	" "$manifest" && return 0
  local sum size
  sum=$(sha256sum "$DATA/$3" | cut -d' ' -f1); size=$(stat -c %s "$DATA/$3")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$size" "$sum" "$4" >> "$manifest"
}
gomod() { local series=$1 mod=$2; shift 2; mkdir -p "$DATA/$series"
  for v in "$@"; do
    local rel="$series/${mod##*/}-$v.zip"
    if [ ! -s "$DATA/$rel" ]; then
      local zip; zip=$(cd "$DATA" && go mod download -json "$mod@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Zip"])')
      cp "$zip" "$DATA/$rel.tmp" && mv "$DATA/$rel.tmp" "$DATA/$rel"
    fi
    add "$series" "$v" "$rel" "goproxy:$mod@$v"
  done; }
gomod gomod-x-net golang.org/x/net v0.30.0 v0.31.0 v0.32.0 v0.33.0 v0.34.0 v0.35.0 v0.36.0 v0.37.0 v0.38.0 v0.39.0
gomod gomod-aws-s3 github.com/aws/aws-sdk-go-v2/service/s3 v1.114.0 v1.114.1 v1.114.2 v1.114.3 v1.114.4 v1.114.5 v1.114.6 v1.114.7 v1.114.8
mkdir -p "$DATA/elf-esbuild" "$DATA/npm-esbuild-tgz"
for v in 0.27.0 0.27.4; do
  out="elf-esbuild/esbuild-$v"
  # The .tgz files stay: vcdiff's TestHereJudgedByLZMA encodes one against the other.
  tgz="$DATA/npm-esbuild-tgz/linux-x64-$v.tgz"
  if [ ! -s "$tgz" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "@esbuild/linux-x64@$v" >/dev/null 2>&1) && mv "$tmp"/*.tgz "$tgz"
    rm -rf "$tmp"
  fi
  if [ ! -s "$DATA/$out" ]; then
    tar -xzOf "$tgz" package/bin/esbuild > "$DATA/$out.tmp" && mv "$DATA/$out.tmp" "$DATA/$out"
  fi
  add elf-esbuild "$v" "$out" "npm:@esbuild/linux-x64@$v:package/bin/esbuild"
done
echo "[fetch-test-corpus] ready in $DATA" >&2
