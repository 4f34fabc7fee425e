#!/usr/bin/env bash
# Prints the outputHash package.nix needs for its node_modules: installs them as the Nix build
# does, in a scratch directory, and hashes the tree the way Nix does (NAR, sha256, SRI form).
# Run it after changing bun.lock; .ci/run checks that package.nix carries the current value.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/package.json" "$root/bun.lock" "$root/bunfig.toml" "$work/"
(cd "$work" && HOME="$work" BUN_INSTALL_CACHE_DIR="$work/.cache" bash "$root/nix/install-node-modules.sh" >/dev/null)
hex=$(nix-hash --type sha256 "$work/node_modules")
bun -e 'console.log(`sha256-${Buffer.from(process.argv[1], "hex").toString("base64")}`)' "$hex"
