#!/usr/bin/env bash
# `make demo`: filled in as the CLI grows.
set -euo pipefail
echo "demo: nothing to show yet"
