#!/usr/bin/env bash
# The project's test command (`make test`): installs what the tests need when it is
# missing, starts a real S3 server (versitygw) on loopback, and runs every test with
# the interop and S3 tests required (DELTAGLIDER_REQUIRE_TOOLS=1: they fail, not skip).
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$(pwd)

need_apt=()
command -v xdelta3 >/dev/null || need_apt+=(xdelta3)
command -v curl >/dev/null || need_apt+=(curl)
command -v python3 >/dev/null || need_apt+=(python3)
command -v aws >/dev/null || need_apt+=(awscli)
command -v bspatch >/dev/null || need_apt+=(bsdiff)   # bsdiff interop oracle (BSDIFF40)
command -v bzip2 >/dev/null || need_apt+=(bzip2)
command -v gzip >/dev/null || need_apt+=(gzip)
# Endsley's bsdiff (ENDSLEY/BSDIFF43 writer), an interop oracle for bsdiff/:
# built below from the npm package node-bsdiff into the tools cache, never
# vendored. internal/testtool.EndsleyBsdiff finds it (or $DELTAGLIDER_ENDSLEY_BSDIFF).
ENDSLEY_VER=0.1.9 ENDSLEY_SHA256=4124f71886cb06c298df5f668460a471964e388cc106303432b96fc6accb7679
ENDSLEY_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/deltaglider-tools/node-bsdiff-$ENDSLEY_VER"
if [ ! -x "$ENDSLEY_DIR/bsdiff" ]; then
  command -v npm >/dev/null || need_apt+=(npm)
  command -v gcc >/dev/null || need_apt+=(gcc)
  [ -e /usr/include/bzlib.h ] || need_apt+=(libbz2-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[test] installing ${need_apt[*]} with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$ENDSLEY_DIR/bsdiff" ]; then
  echo "[test] building Endsley bsdiff from npm node-bsdiff@$ENDSLEY_VER into $ENDSLEY_DIR" >&2
  mkdir -p "$ENDSLEY_DIR"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-bsdiff@$ENDSLEY_VER" >/dev/null)
  echo "$ENDSLEY_SHA256  $tmp/node-bsdiff-$ENDSLEY_VER.tgz" | sha256sum -c --quiet
  tar -xzf "$tmp/node-bsdiff-$ENDSLEY_VER.tgz" -C "$tmp" package/src/bsdiff
  gcc -O2 -DBSDIFF_EXECUTABLE -o "$ENDSLEY_DIR/bsdiff.tmp" "$tmp/package/src/bsdiff/bsdiff.c" -lbz2
  mv "$ENDSLEY_DIR/bsdiff.tmp" "$ENDSLEY_DIR/bsdiff"
  rm -rf "$tmp"
fi
export DELTAGLIDER_ENDSLEY_BSDIFF="$ENDSLEY_DIR/bsdiff"

bash "$HERE/scripts/fetch-test-corpus.sh"

# shellcheck source=scripts/versitygw.sh
. "$HERE/scripts/versitygw.sh"
vgw_start
trap vgw_stop EXIT

export DELTAGLIDER_REQUIRE_TOOLS=1
echo "[test] go vet ./..." >&2
go vet ./...
# 32-bit platforms (ARM NAS boxes, say) must at least build, tests included:
# sizes past 2 GiB in an int are compile errors there.
echo "[test] GOARCH=386 go vet ./... (32-bit build check)" >&2
GOARCH=386 CGO_ENABLED=0 go vet ./...
# make test-long sets LONG=1: the long tests run too (s3store's 1 GiB object
# with a peak-RSS budget, ...); they skip otherwise.
TEST_TIMEOUT=20m
if [ "${LONG:-}" = 1 ]; then
  export LONG
  TEST_TIMEOUT=60m
  echo "[test] LONG=1: long tests enabled" >&2
fi
echo "[test] go test ./..." >&2
go test -count=1 -timeout "$TEST_TIMEOUT" ./...
echo "[test] scripts/e2e.sh (deltaglider binary on the embedded store and versitygw)" >&2
bash "$HERE/scripts/e2e.sh"

# Short coverage-guided fuzzing of every fuzz target (crashers land in
# testdata/fuzz/). Each target runs the number of executions listed in
# scripts/fuzz-targets.txt; FUZZTIME (e.g. 30s or 50000x) overrides it for all.
# Minimizing each new-coverage input may take up to a minute by default,
# which would use the whole short run (FuzzDecode made no progress past
# its seeds); keep it short so the time goes to fuzzing.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-2s}
while read -r pkg target count; do
  [ -n "$pkg" ] || continue
  budget=${FUZZTIME:-${count}x}
  echo "[test] fuzz $pkg $target for $budget" >&2
  go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" -fuzzminimizetime="$FUZZMINIMIZETIME" "$pkg"
done < <(grep -v '^#' scripts/fuzz-targets.txt)
echo "[test] all passed" >&2
