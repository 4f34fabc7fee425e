#!/usr/bin/env bash
# Installs node_modules exactly as bun.lock pins them, the same on every platform: the Nix
# package's fixed-output derivation runs this, and node-modules-hash.sh runs it to compute that
# derivation's hash. Only the runtime dependencies: the build needs nothing else.
set -euo pipefail
bun install --frozen-lockfile --production --ignore-scripts --no-progress --cpu='*' --os='*'
