#!/usr/bin/env bash
# Installs the packed library (npm pack, as users get it) into a CommonJS NestJS 11 app,
# an ESM NestJS 12 app and a CommonJS-mode Jest project, and runs each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && npm run build --silent && npm pack --silent --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/nestjs-jwt-extended-*.tgz)
for consumer in cjs-nest11 esm-nest12 cjs-jest; do
  cp -r "$root/consumers/$consumer" "$work/$consumer"
  (
    cd "$work/$consumer"
    npm install --silent --no-audit --no-fund "$tarball" >/dev/null
    if [ "$consumer" = cjs-jest ]; then npx jest --ci; else node main.js; fi
  )
done
