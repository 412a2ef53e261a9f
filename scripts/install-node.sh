#!/bin/sh
# Installs Node.js <major> from the npm registry (the node-linux-<arch> package: the binary and its headers)
# into test/.cache/node/<major> and prints that folder. Idempotent: a present copy is reused.
# Usage: scripts/install-node.sh 22   → then PATH="$dir/bin:$PATH" and npm_config_nodedir="$dir/headers"
set -eu

major="${1:?usage: install-node.sh <major version, e.g. 22>}"
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
dest="$root/test/.cache/node/$major"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node: expected an x86_64 or aarch64 machine, found $(uname -m)" >&2; exit 1 ;;
esac

if [ ! -x "$dest/bin/node" ] || ! "$dest/bin/node" --version | grep -q "^v$major\."; then
  rm -rf "$dest"
  npm install --global --prefix "$dest" --no-audit --no-fund --prefer-offline "node-linux-$arch@$major" >&2
  # node-gyp finds the headers as <nodedir>/include/node.
  ln -s "lib/node_modules/node-linux-$arch" "$dest/headers"
fi
echo "$dest"
