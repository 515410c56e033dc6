#!/usr/bin/env bash
# `npm run bench`: openlun vs tgt (see bench/compare.ts). Extra arguments go to compare.ts,
# e.g. npm run bench -- --runs 5 --seconds 10 --json /tmp/bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx bench/compare.ts "$@"
# ATS (COMPARE AND WRITE) heartbeat latency under a 4K write load (issue 3: p50/p99)
node --import tsx bench/ats-latency.ts
