#!/usr/bin/env bash
# Installs, with Debian's packages, every real part the tests run against: Slurm 22.05 (slurmctld, slurmd,
# slurmrestd with the JWT plugin, slurmdbd with MariaDB, munge), Prometheus with promtool, Alertmanager with
# amtool, etcd 3.4, and python3-prometheus-client (its parser cross-checks our exposition text).
# Idempotent and quick when everything is there (dpkg-query only). One apt-get install for all that is missing;
# `apt-get update` only when the package lists are missing or the install fails. No service is started.
set -Eeuo pipefail

PKGS=(
  slurmctld slurmd slurmrestd slurm-client munge slurm-wlm-jwt-plugin
  slurmdbd slurm-wlm-mysql-plugin mariadb-server
  curl jq
  prometheus prometheus-alertmanager
  etcd-server
  python3-prometheus-client
)

log() { printf '[install-test-deps] %s\n' "$*" >&2; }

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "all test dependencies are installed"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { log "ERROR: must run as root to install: ${missing[*]}"; exit 1; }
command -v apt-get >/dev/null || { log "ERROR: needs Debian/Ubuntu (apt-get) to install: ${missing[*]}"; exit 1; }

log "installing: ${missing[*]}"
# Packages must not start their services (munge, slurm, mariadb, prometheus, etcd): the tests start their own.
prc=/usr/sbin/policy-rc.d
bak=""
if [ -e "$prc" ]; then bak=$(mktemp); cp -p "$prc" "$bak"; fi
restore() { if [ -n "$bak" ]; then cp -p "$bak" "$prc"; rm -f "$bak"; else rm -f "$prc"; fi; }
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' >"$prc"
chmod 755 "$prc"

export DEBIAN_FRONTEND=noninteractive
opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
logf=$(mktemp /tmp/install-test-deps.XXXXXX.log)
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
  log "apt package lists are missing: apt-get update"
  apt-get update -q >>"$logf" 2>&1
fi
if ! apt-get install "${opts[@]}" "${missing[@]}" >>"$logf" 2>&1; then
  log "apt-get install failed; apt-get update and one more try"
  apt-get update -q >>"$logf" 2>&1 || true
  if ! apt-get install "${opts[@]}" "${missing[@]}" >>"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    log "ERROR: apt-get install failed (full log: $logf)"
    exit 1
  fi
fi
# The prometheus package would otherwise leave its own instance enabled for the next boot; harmless here.
log "installed in $SECONDS s"
rm -f "$logf"
