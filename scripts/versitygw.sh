#!/usr/bin/env bash
# Install (once, cached) and start versitygw v1.8.0 on 127.0.0.1 for the S3 tests.
# Source this file, then call `vgw_start`; it exports the variables the tests read
# (DELTAGLIDER_S3_ENDPOINT, AWS_*), and `vgw_stop` ends the server.
VGW_VERSION=v1.8.0
VGW_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/s3test-tools/versitygw-$VGW_VERSION"
VGW_BIN="$VGW_DIR/versitygw"

vgw_install() {
  if [ ! -x "$VGW_BIN" ]; then
    echo "[versitygw] building $VGW_VERSION into $VGW_DIR (first time only, ~3 min on 2 cores)" >&2
    GOBIN="$VGW_DIR" GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" || return 1
  fi
}

# vgw_free_port prints a free TCP port on 127.0.0.1.
vgw_free_port() {
  python3 - <<'PY' 2>/dev/null || echo 17070
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

vgw_start() {
  vgw_install || return 1
  # tmpfs when there is one (small PUTs ~2.5x faster than on ext4); it must
  # support user.* xattrs, which tmpfs and ext4 both do. VGW_TMPDIR overrides.
  local base=${VGW_TMPDIR:-}
  if [ -z "$base" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
  fi
  VGW_DATA=$(mktemp -d "$base/dg-s3data.XXXXXX")
  VGW_PORT=${VGW_PORT:-$(vgw_free_port)}
  VGW_LOG="${TMPDIR:-/tmp}/$(basename "$VGW_DATA").log"
  ROOT_ACCESS_KEY=testkey ROOT_SECRET_KEY=testsecret123 \
    "$VGW_BIN" --port "127.0.0.1:$VGW_PORT" --health /health --quiet posix "$VGW_DATA" >"$VGW_LOG" 2>&1 &
  VGW_PID=$!
  local i
  for i in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$VGW_PORT/health" 2>/dev/null; then
      export AWS_ACCESS_KEY_ID=testkey AWS_SECRET_ACCESS_KEY=testsecret123 AWS_REGION=us-east-1 \
        AWS_EC2_METADATA_DISABLED=true DELTAGLIDER_S3_ENDPOINT="http://127.0.0.1:$VGW_PORT" \
        DELTAGLIDER_VERSITYGW_BIN="$VGW_BIN"
      echo "[versitygw] listening on 127.0.0.1:$VGW_PORT (pid $VGW_PID)" >&2
      return 0
    fi
    kill -0 "$VGW_PID" 2>/dev/null || { cat "$VGW_LOG" >&2; return 1; }
    sleep 0.1
  done
  echo "[versitygw] did not become healthy" >&2; cat "$VGW_LOG" >&2
  return 1
}

vgw_stop() {
  [ -n "${VGW_PID:-}" ] && kill "$VGW_PID" 2>/dev/null && wait "$VGW_PID" 2>/dev/null
  [ -n "${VGW_DATA:-}" ] && rm -rf "$VGW_DATA"
  [ -n "${VGW_LOG:-}" ] && rm -f "$VGW_LOG"
  return 0
}
