#!/usr/bin/env bash
# scripts/slurm-lab/stop.sh [STATE_DIR]
# Stops only what scripts/slurm-lab/start.sh started for STATE_DIR (default /var/lib/slurm-exporter-lab):
#   1. cancels all jobs through Slurm itself while slurmctld/slurmd are still up,
#      so slurmstepd and job processes are cleaned up the normal way;
#   2. SIGTERMs the daemons named by the pid files in STATE_DIR/run, each
#      checked to still carry the SLURM_LAB_OWNER=STATE_DIR marker in its
#      environment (a recycled pid is never hit);
#   3. sweeps leftovers that belong to this lab: processes carrying the marker,
#      slurmstepd processes holding files under STATE_DIR open (slurmstepd gets
#      a scrubbed environment and is re-parented to init, so the marker alone
#      misses it), and all descendants of both (job processes).
# Never kills by process name alone.  The state dir is kept; scripts/slurm-lab/start.sh
# wipes it on the next cold start unless SLURM_LAB_KEEP_STATE=1.
set -uo pipefail
STATE=${1:-${SLURM_LAB_DIR:-/var/lib/slurm-exporter-lab}}
T0=$(date +%s.%N)
[ -d "$STATE" ] || { echo "[stop-slurm] nothing to do: $STATE does not exist" >&2; exit 0; }
STATE=$(cd "$STATE" && pwd -P)
RUN=$STATE/run
MARK="SLURM_LAB_OWNER=$STATE"
el() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
log() { printf '[stop-slurm %(%H:%M:%S)T +%ss] %s\n' -1 "$(el)" "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "[stop-slurm] ERROR: must run as root" >&2; exit 1; }

# All /proc parsing is fork-free where it runs per process (the box may be busy).
ppid_of() { # pid -> ppid; robust against spaces/parens in comm
  local s; { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  s=${s##*") "}; s=${s#* }; REPLY=${s%% *}
}
alive() {
  local s; { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  s=${s##*") "}; [[ $s != Z* && $s != X* ]]
}
has_mark() { grep -qzxF "$MARK" "/proc/$1/environ" 2>/dev/null; }
pid_from() { [ -s "$1" ] && tr -dc '0-9' <"$1"; }

# ---- 1. cancel jobs via Slurm while the cluster is still up
ctld_pid=$(pid_from "$RUN/slurmctld.pid" || true)
if [ -n "$ctld_pid" ] && alive "$ctld_pid" && has_mark "$ctld_pid" && [ -f "$STATE/etc/slurm.conf" ]; then
  export SLURM_CONF=$STATE/etc/slurm.conf; unset SLURM_JWT
  ids=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${ids// /}" ]; then
    timeout 10 scancel $ids >/dev/null 2>&1 || true
    for i in $(seq 1 75); do   # up to 15 s for steps to be torn down by slurmd
      [ -z "$(timeout 5 squeue -h -t R,CG,S,ST -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
    log "cancelled all jobs"
  fi
fi

# ---- snapshot of everything that belongs to this lab (before anything dies)
declare -A SKIP=() PPID_OF=() TARGET=() STEPD=()
p=$$
while [ -n "$p" ] && [ "$p" -gt 1 ]; do SKIP[$p]=1; ppid_of "$p" || break; p=$REPLY; done
stepd_dirs=()
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  ppid_of "$pid" || continue
  PPID_OF[$pid]=$REPLY
  [ -n "${SKIP[$pid]:-}" ] && continue
  { read -r comm <"$d/comm"; } 2>/dev/null || continue
  [[ $comm == slurmstepd* ]] && stepd_dirs+=("$d/cwd" "$d/fd")
done
# slurmstepd of THIS lab = a slurmstepd holding a file (or cwd) under STATE
if [ ${#stepd_dirs[@]} -gt 0 ]; then
  while IFS= read -r f; do
    pid=${f#/proc/}; pid=${pid%%/*}
    TARGET[$pid]=1; STEPD[$pid]=1
  done < <(find "${stepd_dirs[@]}" -maxdepth 1 -lname "$STATE/*" 2>/dev/null)
fi
# one grep over all environments instead of one per process
while IFS= read -r f; do
  pid=${f#/proc/}; pid=${pid%/environ}
  [ -n "${SKIP[$pid]:-}" ] || [ -z "${PPID_OF[$pid]:-}" ] || TARGET[$pid]=1
done < <(grep -lszxF "$MARK" /proc/[0-9]*/environ 2>/dev/null)
changed=1
while [ $changed = 1 ]; do
  changed=0
  for pid in "${!PPID_OF[@]}"; do
    [ -n "${TARGET[$pid]:-}" ] || [ -n "${SKIP[$pid]:-}" ] && continue
    if [ -n "${TARGET[${PPID_OF[$pid]}]:-}" ]; then TARGET[$pid]=1; changed=1; fi
  done
done

log "found ${#TARGET[@]} lab process(es)"
# ---- 2. daemons via their pid files, in stages so that nobody hangs talking
#         to a peer that is already gone (slurmctld waits ~4 s for a dead slurmdbd)
wait_gone() { # max_tenths pid...
  local n=$1 p left; shift
  while [ "$n" -gt 0 ]; do
    left=0; for p in "$@"; do alive "$p" && { left=1; break; }; done
    [ $left = 0 ] && return 0
    sleep 0.1; n=$((n-1))
  done
}
stop_stage() { # max_tenths pidfile-patterns...
  local pat f pid pids=() names=() max=$1; shift
  for pat in "$@"; do
    for f in "$RUN"/$pat.pid; do
      [ -e "$f" ] || continue
      pid=$(pid_from "$f" || true)
      if [ -n "$pid" ] && alive "$pid" && has_mark "$pid"; then
        kill -TERM "$pid" 2>/dev/null && { pids+=("$pid"); names+=("$(basename "$f" .pid):$pid"); }
      fi
      rm -f "$f"
    done
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  log "SIGTERM -> ${names[*]}"
  wait_gone "$max" "${pids[@]}"
}
# slurmctld saves its state (and its pending slurmdbd RPCs) within ~1.5 s of
# SIGTERM, then lingers ~4 s in an agent thread that keeps retrying the
# never-started node d1; it is SIGKILLed after 2.5 s instead of waiting.
ctld=$(pid_from "$RUN/slurmctld.pid" || true)
stop_stage 25 slurmrestd slurmctld
if [ -n "$ctld" ] && alive "$ctld" && has_mark "$ctld"; then
  log "slurmctld saved its state but lingers (agent retrying d1): SIGKILL $ctld"
  kill -KILL "$ctld" 2>/dev/null
fi
stop_stage 100 'slurmd-*' slurmdbd
stop_stage 100 mariadbd munged

# ---- 3. everything else of ours (slurmstepd, job processes)
others=()
for pid in "${!TARGET[@]}"; do
  alive "$pid" || continue
  # slurmstepd ignores SIGTERM; by now its job is cancelled (or orphaned)
  if [ -n "${STEPD[$pid]:-}" ]; then kill -KILL "$pid" 2>/dev/null; else kill -TERM "$pid" 2>/dev/null; fi
  others+=("$pid")
done
[ ${#others[@]} -gt 0 ] && log "signalled ${#others[@]} other lab process(es)"
wait_gone 30 "${!TARGET[@]}"
for pid in "${!TARGET[@]}"; do
  if alive "$pid"; then
    log "SIGKILL $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
    kill -KILL "$pid" 2>/dev/null
  fi
done
log "stopped (state kept in $STATE)"
