#!/usr/bin/env bash
# `npm test` (and so .ci/run): test dependencies, type check, then every *.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

echo "== type check"
npx tsc -p tsconfig.json --noEmit
npx tsc -p ui/tsconfig.json --noEmit

echo "== build (once, before tests start programs from it in parallel)"
node scripts/build.mjs
node scripts/build-ui.mjs

echo "== tests"
exec node scripts/run-tests.mjs "$@"
