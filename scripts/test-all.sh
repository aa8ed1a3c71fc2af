#!/usr/bin/env bash
# Every test, on a fresh machine: static checks, then the real parts the tests need (Slurm 22.05 lab,
# Prometheus/promtool, etcd), then one node:test run over unit, integration and e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"   # Node 24 from the devDependency, before the machine's node

step() { printf '\n== %s\n' "$*"; }

step "node $(node --version)"
step "type-check";  tsc -p tsconfig.json --noEmit
step "lint";        eslint --max-warnings 0 .
step "build";       tsc -p tsconfig.build.json

step "install test dependencies (Slurm, Prometheus, etcd)"
bash scripts/install-test-deps.sh

step "start the Slurm lab"
bash scripts/slurm-lab/start.sh
if [[ "${KEEP_SLURM_LAB:-0}" != 1 ]]; then
  trap 'bash scripts/slurm-lab/stop.sh >/dev/null 2>&1 || true' EXIT
fi

step "tests"
node --test --test-reporter=spec --test-concurrency=2 --test-timeout=600000 \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts'
