#!/usr/bin/env bash
# Installs the packed library (npm pack, as users get it) into a CommonJS NestJS 11 app,
# an ESM NestJS 12 app and a CommonJS-mode Jest project (which also type-checks the sub-paths
# under moduleResolution node10 and uses the testing kit), and runs each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# No build first: the prepack script must build dist, as on a fresh clone.
(cd "$root" && rm -rf dist && npm pack --silent --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/nestjs-jwt-extended-*.tgz)
listing=$(tar -tzf "$tarball")
for file in LICENSE dist/index.js dist/index.d.ts dist/blocklist/redis/index.d.ts dist/testing/index.js dist/testing/index.d.ts dist/swagger/index.js dist/swagger/index.d.ts; do
  grep -qx "package/$file" <<<"$listing" || { echo "the packed tarball has no $file" >&2; exit 1; }
done
for consumer in cjs-nest11 esm-nest12 cjs-jest; do
  cp -r "$root/consumers/$consumer" "$work/$consumer"
  (
    cd "$work/$consumer"
    npm install --silent --no-audit --no-fund "$tarball" >/dev/null
    # cjs-jest type-checks first: under moduleResolution node10 (sub-paths via typesVersions) and nodenext (exports).
    if [ "$consumer" = cjs-jest ]; then npx tsc -p . && npx tsc -p tsconfig.nodenext.json && npx jest --ci; else node main.js; fi
  )
done
