#!/usr/bin/env bash
# `npm run bench`: openlun vs tgt (see bench/compare.ts). Extra arguments go to compare.ts,
# e.g. npm run bench -- --runs 5 --seconds 10 --json /tmp/bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx bench/compare.ts "$@"
