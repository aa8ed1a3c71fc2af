#!/usr/bin/env bash
# scripts/slurm-lab/start.sh [STATE_DIR]
#
# The integration tests' Slurm: a small but REAL Slurm 22.05 cluster (Debian 12 packages) on
# loopback, with slurmrestd (JWT auth) and optionally slurmdbd+MariaDB
# accounting, then submit a sample workload so that nodes, partitions and jobs
# are in a variety of states.  No systemd needed.  Runs as root.
#
# Idempotent:
#   * if none of the lab daemons is running, the state dir is wiped and the
#     cluster is configured and started from scratch (SLURM_LAB_KEEP_STATE=1
#     keeps the old state instead);
#   * if the daemons are already running, only missing daemons are started, the
#     workload is not resubmitted, and a fresh token/env file is written.
#
# Writes $STATE_DIR/slurm.env (SLURM_REST_URL, SLURM_JWT, SLURM_USER, ...) and
# prints it.  Stop with scripts/slurm-lab/stop.sh [STATE_DIR]. Packages come from
# scripts/install-test-deps.sh (called here when something is missing).
#
# Knobs (environment):
#   SLURM_LAB_ACCOUNTING=1|0     slurmdbd + MariaDB accounting      (default 1)
#   SLURM_LAB_WORKLOAD=1|0       submit the sample jobs             (default 1)
#   SLURM_LAB_KEEP_STATE=0|1     do not wipe state on a cold start  (default 0)
#   SLURM_LAB_LINK_ETC=1|0       symlink /etc/slurm/slurm.conf to the lab
#                                config so plain `sinfo` works      (default 1)
#   SLURM_LAB_TOKEN_LIFESPAN     JWT lifespan in seconds            (default 86400)
#   SLURM_LAB_CTLD_PORT  (6817)  SLURM_LAB_DBD_PORT (6819)  SLURM_LAB_REST_PORT (6820)
#   SLURM_LAB_SLURMD_PORT_BASE (6830: c1=6831 ... g1=6835)  SLURM_LAB_MYSQL_PORT (3307)
set -Eeuo pipefail

STATE=${1:-${SLURM_LAB_DIR:-/var/lib/slurm-exporter-lab}}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ACCOUNTING=${SLURM_LAB_ACCOUNTING:-1}
WORKLOAD=${SLURM_LAB_WORKLOAD:-1}
KEEP_STATE=${SLURM_LAB_KEEP_STATE:-0}
LINK_ETC=${SLURM_LAB_LINK_ETC:-1}
TOKEN_LIFESPAN=${SLURM_LAB_TOKEN_LIFESPAN:-86400}
CTLD_PORT=${SLURM_LAB_CTLD_PORT:-6817}
DBD_PORT=${SLURM_LAB_DBD_PORT:-6819}
REST_PORT=${SLURM_LAB_REST_PORT:-6820}
SLURMD_BASE=${SLURM_LAB_SLURMD_PORT_BASE:-6830}
MYSQL_PORT=${SLURM_LAB_MYSQL_PORT:-3307}
REST_USER=slurmrest            # slurmrestd refuses to run as root / SlurmUser
LAB_USERS=(alice bob)          # unprivileged users that own part of the workload
SLURMD_NODES=(c1 c2 c3 c4 g1)  # nodes that get a real slurmd (all on loopback)

STATE=$(mkdir -p "$STATE" && cd "$STATE" && pwd -P)
ETC=$STATE/etc LOG=$STATE/log RUN=$STATE/run SPOOL=$STATE/spool
CTLD=$STATE/ctld MUNGE=$STATE/munge MYSQL=$STATE/mysql JOBS=$STATE/jobs
CONF=$ETC/slurm.conf
ENV_FILE=$STATE/slurm.env

# Every process we launch inherits this marker; stop-slurm.sh uses it (plus the
# pid files) to find exactly the processes this lab started, never by name.
export SLURM_LAB_OWNER=$STATE
export SLURM_CONF=$CONF
unset SLURM_JWT   # a stale token in the caller's env would switch CLI auth to JWT

T0=$(date +%s.%N)
TIMINGS=()
log()  { printf '[slurm-lab %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die()  { printf '[slurm-lab] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[slurm-lab] ERROR: command failed (rc=%s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR
now()  { date +%s.%N; }
phase_done() { # name start
  local d; d=$(awk -v a="$2" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')
  TIMINGS+=("$1=${d}s"); log "$1: ${d}s"
}
# wait_for DESCRIPTION TIMEOUT_S LOGFILE CMD...
wait_for() {
  local what=$1 timeout=$2 logf=$3; shift 3
  local deadline; deadline=$(awk -v t="$(now)" -v d="$timeout" 'BEGIN{printf "%d", t+d}')
  until "$@" >/dev/null 2>&1; do
    if [ -n "${WAIT_PIDFILE:-}" ] && ! pid_alive "$WAIT_PIDFILE"; then
      log "$what: process died"
      [ -n "$logf" ] && [ -f "$logf" ] && { log "last lines of $logf:"; tail -n 25 "$logf" >&2; }
      die "$what failed to start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${timeout}s waiting for: $what"
      [ -n "$logf" ] && [ -f "$logf" ] && { log "last lines of $logf:"; tail -n 25 "$logf" >&2; }
      die "$what did not become ready"
    fi
    sleep 0.1
  done
}
# pid_alive PIDFILE -> 0 if the pid in it is a live process carrying our marker
pid_alive() {
  local f=$1 pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "SLURM_LAB_OWNER=$STATE"
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v apt-get >/dev/null || die "this script expects Debian/Ubuntu (apt-get)"

# ---------------------------------------------------------------- 1. install
PKGS=(slurmctld slurmd slurmrestd slurm-client munge slurm-wlm-jwt-plugin curl jq)
[ "$ACCOUNTING" = 1 ] && PKGS+=(slurmdbd slurm-wlm-mysql-plugin mariadb-server)
install_packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "packages already installed"; return 0; }
  log "missing: ${missing[*]}; running scripts/install-test-deps.sh"
  bash "$SCRIPT_DIR/../install-test-deps.sh" >&2
}

# ---------------------------------------------------------------- helpers
any_daemon_alive() {
  local f
  for f in "$RUN"/*.pid; do [ -e "$f" ] && pid_alive "$f" && return 0; done
  return 1
}
ensure_user() { # name
  id -u "$1" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$1" \
    || die "could not create user $1"
}
as_user() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }

# ---------------------------------------------------------------- 2. configure
write_configs() {
  local cpus_note="node sizes are declared, not detected (SlurmdParameters=config_overrides)"
  local acct_lines
  if [ "$ACCOUNTING" = 1 ]; then
    acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=$MUNGE/munge.socket
AccountingStorageTRES=gres/gpu,license/matlab,license/fluent
PriorityType=priority/multifactor
PriorityWeightFairshare=10000
PriorityWeightAge=1000
PriorityWeightPartition=1000
PriorityWeightJobSize=100
PriorityWeightQOS=2000
PriorityDecayHalfLife=1-0
PriorityCalcPeriod=1"
  else
    acct_lines="AccountingStorageType=accounting_storage/none
PriorityType=priority/basic"
  fi
  cat >"$CONF" <<EOF
# Generated by start-slurm.sh -- lab cluster on loopback; $cpus_note.
ClusterName=lab
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$((SLURMD_BASE))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE/munge.socket
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$ETC/jwt_hs256.key
StateSaveLocation=$CTLD
SlurmdSpoolDir=$SPOOL/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,bf_continue
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
GresTypes=gpu
Licenses=matlab:4,fluent:2
DefMemPerCPU=500
MinJobAge=86400
KillWait=5
SlurmdTimeout=300
InactiveLimit=0
$acct_lines
JobCompType=jobcomp/none

NodeName=DEFAULT Sockets=1 ThreadsPerCore=1 State=UNKNOWN
NodeName=c1 NodeHostName=c1 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+1)) CoresPerSocket=4 RealMemory=4000 Features=intel,avx2
NodeName=c2 NodeHostName=c2 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+2)) CoresPerSocket=8 RealMemory=8000 Features=intel,avx2
NodeName=c3 NodeHostName=c3 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+3)) CoresPerSocket=4 RealMemory=8000 Features=amd
NodeName=c4 NodeHostName=c4 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+4)) CoresPerSocket=4 RealMemory=8000 Features=amd
NodeName=g1 NodeHostName=g1 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+5)) CoresPerSocket=8 RealMemory=16000 Gres=gpu:tesla:2 Features=gpu
# d1 never gets a slurmd (not responding -> DOWN*), f1 is a FUTURE node.
NodeName=d1 NodeHostName=d1 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+6)) CoresPerSocket=4 RealMemory=4000
NodeName=f1 NodeHostName=f1 NodeAddr=127.0.0.1 Port=$((SLURMD_BASE+7)) CoresPerSocket=4 RealMemory=4000 State=FUTURE

PartitionName=debug Nodes=c[1-2] Default=YES DefaultTime=04:00:00 MaxTime=1-00:00:00 State=UP
PartitionName=batch Nodes=c[1-4],d1,f1 DefaultTime=1-00:00:00 MaxTime=7-00:00:00 State=UP PriorityJobFactor=10
PartitionName=gpu Nodes=g1 DefaultTime=1-00:00:00 MaxTime=2-00:00:00 State=UP
PartitionName=maint Nodes=c[3-4] MaxTime=01:00:00 State=DOWN
EOF
  # Fake GPUs. gres/gpu drops File-less GPUs and wants char/block devices, so
  # point two "device files" at /dev/null and /dev/zero (fine with task/none).
  mkdir -p "$STATE/dev"
  ln -sfn /dev/null "$STATE/dev/nvidia0"; ln -sfn /dev/zero "$STATE/dev/nvidia1"
  cat >"$ETC/gres.conf" <<EOF
NodeName=g1 Name=gpu Type=tesla File=$STATE/dev/nvidia[0-1]
EOF
  : >"$ETC/plugstack.conf"
  # slurmd 22.05 always initialises a cgroup plugin; the default "autodetect"
  # fails where /sys/fs/cgroup is not mounted (chroots, some containers).
  # Nothing here uses cgroups (proctrack/linuxproc, task/none), and the v1
  # plugin only touches cgroupfs when a cgroup-based plugin asks it to.
  echo "CgroupPlugin=cgroup/v1" >"$ETC/cgroup.conf"
  chmod 644 "$CONF" "$ETC/gres.conf" "$ETC/plugstack.conf" "$ETC/cgroup.conf"
  if [ ! -s "$ETC/jwt_hs256.key" ]; then
    dd if=/dev/urandom bs=32 count=1 2>/dev/null | base64 -w0 >"$ETC/jwt_hs256.key"
  fi
  chown root:root "$ETC/jwt_hs256.key"; chmod 600 "$ETC/jwt_hs256.key"
  if [ "$ACCOUNTING" = 1 ]; then
    cat >"$ETC/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$MUNGE/munge.socket
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$ETC/jwt_hs256.key
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=slurmlab
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$ETC/slurmdbd.conf"
  fi
  if [ "$LINK_ETC" = 1 ]; then
    mkdir -p /etc/slurm
    # only (re)point it when it is absent, dangling or already ours; never
    # steal it from another lab's state dir or from a real installation
    local cur; cur=$(readlink -f /etc/slurm/slurm.conf 2>/dev/null || true)
    if [ ! -e /etc/slurm/slurm.conf ]; then   # absent or dangling
      ln -sfn "$CONF" /etc/slurm/slurm.conf
    elif [ "$cur" != "$CONF" ]; then
      log "WARNING: /etc/slurm/slurm.conf -> $cur is not this lab's; leaving it (clients need SLURM_CONF=$CONF)"
    fi
  fi
}

# ---------------------------------------------------------------- 3. daemons
start_munged() {
  pid_alive "$RUN/munged.pid" && return 0
  if [ ! -s "$MUNGE/munge.key" ]; then
    dd if=/dev/urandom bs=1024 count=1 of="$MUNGE/munge.key" 2>/dev/null
  fi
  chown -R munge:munge "$MUNGE"; chmod 755 "$MUNGE"; chmod 400 "$MUNGE/munge.key"
  touch "$LOG/munged.log" "$RUN/munged.pid"; chown munge:munge "$LOG/munged.log" "$RUN/munged.pid"
  as_user munge /usr/sbin/munged --key-file="$MUNGE/munge.key" --socket="$MUNGE/munge.socket" \
    --pid-file="$RUN/munged.pid" --log-file="$LOG/munged.log" --seed-file="$MUNGE/munged.seed" \
    --num-threads=4 </dev/null >>"$LOG/munged.log" 2>&1 || { tail "$LOG/munged.log" >&2; die "munged failed to start"; }
  wait_for "munged" 10 "$LOG/munged.log" bash -c "munge -n -S '$MUNGE/munge.socket' | unmunge -S '$MUNGE/munge.socket'"
}

start_mariadb() {
  pid_alive "$RUN/mariadbd.pid" && return 0
  mkdir -p "$MYSQL"; chown mysql:mysql "$MYSQL"
  touch "$LOG/mariadb.log"; chown mysql:mysql "$LOG/mariadb.log" "$RUN"
  if [ ! -d "$MYSQL/data/mysql" ]; then
    # mariadb-install-db costs 2-3 s; keep a pristine datadir in $STATE/cache
    # (not wiped on cold starts) and copy it next time (~0.2 s).
    local tpl=$STATE/cache/mariadb-datadir ver
    ver=$(/usr/sbin/mariadbd --version 2>/dev/null || echo unknown)
    if [ -d "$tpl/mysql" ] && [ "$(cat "$STATE/cache/mariadb-version" 2>/dev/null)" = "$ver" ]; then
      cp -a "$tpl" "$MYSQL/data"
    else
      mariadb-install-db --no-defaults --user=mysql --datadir="$MYSQL/data" --skip-test-db \
        --auth-root-authentication-method=socket >"$LOG/mariadb-install.log" 2>&1 \
        || { tail -20 "$LOG/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
      mkdir -p "$STATE/cache"; rm -rf "$tpl"
      cp -a "$MYSQL/data" "$tpl" && printf '%s\n' "$ver" >"$STATE/cache/mariadb-version"
    fi
  fi
  setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MYSQL/data" \
    --socket="$MYSQL/mysqld.sock" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
    --pid-file="$RUN/mariadbd.pid" --log-error="$LOG/mariadb.log" --skip-log-bin \
    --innodb-buffer-pool-size=512M --innodb-log-file-size=64M --innodb-lock-wait-timeout=900 \
    --innodb-flush-log-at-trx-commit=0 --skip-name-resolve </dev/null >>"$LOG/mariadb.log" 2>&1 &
  wait_for "mariadbd" 30 "$LOG/mariadb.log" mariadb --no-defaults -S "$MYSQL/mysqld.sock" -u root -e 'select 1'
  pid_alive "$RUN/mariadbd.pid" || die "mariadbd pid file missing"
  mariadb --no-defaults -S "$MYSQL/mysqld.sock" -u root <<'EOF'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmlab';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmlab';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
}

DBD_STARTED=0
start_slurmdbd() {
  pid_alive "$RUN/slurmdbd.pid" && return 0
  DBD_STARTED=1
  /usr/sbin/slurmdbd </dev/null >>"$LOG/slurmdbd.log" 2>&1 || { tail -20 "$LOG/slurmdbd.log" >&2; die "slurmdbd failed to start"; }
  wait_for "slurmdbd" 60 "$LOG/slurmdbd.log" sacctmgr -n show cluster
}

start_slurmctld() {
  pid_alive "$RUN/slurmctld.pid" && return 0
  /usr/sbin/slurmctld -f "$CONF" </dev/null >>"$LOG/slurmctld.log" 2>&1 || { tail -20 "$LOG/slurmctld.log" >&2; die "slurmctld failed to start"; }
  wait_for "slurmctld (scontrol ping)" 30 "$LOG/slurmctld.log" bash -c "scontrol ping | grep -q 'is UP'"
}

start_slurmds() {
  local n
  for n in "${SLURMD_NODES[@]}"; do
    pid_alive "$RUN/slurmd-$n.pid" && continue
    mkdir -p "$SPOOL/$n"
    /usr/sbin/slurmd -f "$CONF" -N "$n" </dev/null >>"$LOG/slurmd-$n.log" 2>&1 || { tail -20 "$LOG/slurmd-$n.log" >&2; die "slurmd -N $n failed to start"; }
  done
  nodes_registered() {
    local out; out=$(sinfo -h -N -n "$(IFS=,; echo "${SLURMD_NODES[*]}")" -o '%N %t' | sort -u)
    [ "$(printf '%s\n' "$out" | grep -c .)" -eq ${#SLURMD_NODES[@]} ] || return 1
    ! printf '%s\n' "$out" | grep -Eq '\*|unk|down'
  }
  wait_for "slurmd nodes ${SLURMD_NODES[*]} to register" 30 "$LOG/slurmctld.log" nodes_registered
}

check_ports() {
  local ports=("$CTLD_PORT" "$REST_PORT") busy=() p n
  for n in "${!SLURMD_NODES[@]}"; do ports+=($((SLURMD_BASE+n+1))); done
  [ "$ACCOUNTING" = 1 ] && ports+=("$DBD_PORT" "$MYSQL_PORT")
  for p in "${ports[@]}"; do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && busy+=("$p")
  done
  [ ${#busy[@]} -eq 0 ] || die "TCP port(s) already in use: ${busy[*]} (another Slurm/MariaDB?). Pick others with SLURM_LAB_*_PORT."
}

rest_ping() { # token
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $1" \
      "http://127.0.0.1:$REST_PORT/slurm/v0.0.38/ping")" = 200 ]
}
start_slurmrestd() {
  pid_alive "$RUN/slurmrestd.pid" && return 0
  # slurmrestd 22.05 fatals when run as root or as SlurmUser, so it runs as an
  # unprivileged user; SLURM_JWT=daemon makes it use auth/jwt towards slurmctld.
  # Without slurmdbd the openapi/dbv0.0.3x plugins are fatal ("slurm not
  # configured with slurmdbd"), so only the slurmctld plugins are loaded then.
  local plugins=()
  [ "$ACCOUNTING" = 1 ] || plugins=(-s openapi/v0.0.36,openapi/v0.0.37,openapi/v0.0.38)
  SLURM_JWT=daemon setsid setpriv --reuid="$REST_USER" --regid="$REST_USER" --init-groups -- \
    /usr/sbin/slurmrestd -f "$CONF" -a rest_auth/jwt "${plugins[@]}" "127.0.0.1:$REST_PORT" \
    </dev/null >>"$LOG/slurmrestd.log" 2>&1 &
  echo $! >"$RUN/slurmrestd.pid"
  local tok; tok=$(scontrol token username=root lifespan=300 | sed -n 's/^SLURM_JWT=//p')
  WAIT_PIDFILE=$RUN/slurmrestd.pid wait_for "slurmrestd on 127.0.0.1:$REST_PORT" 20 "$LOG/slurmrestd.log" rest_ping "$tok"
}

# ---------------------------------------------------------------- 4. accounts + workload
setup_accounts() {
  # 3 sacctmgr calls instead of ~10 (each one is a slurmdbd round trip + commit)
  cat >"$ETC/lab-assoc.cfg" <<'EOF'
Cluster - 'lab':Fairshare=1:QOS='high,low,normal'
Parent - 'root'
User - 'root':DefaultAccount='root':AdminLevel='Administrator':Fairshare=1
Account - 'chemistry':Description='chemistry':Organization='science':Fairshare=40
Account - 'physics':Description='physics':Organization='science':Fairshare=60
Parent - 'chemistry'
User - 'bob':DefaultAccount='chemistry':Fairshare=1:QOS='low,normal'
Parent - 'physics'
User - 'alice':DefaultAccount='physics':Fairshare=1:QOS='high,low,normal'
User - 'bob':DefaultAccount='chemistry':Fairshare=1
EOF
  sacctmgr -i add qos high,low >/dev/null 2>&1 || true
  sacctmgr -i modify qos where name=high set Priority=100 MaxWall=2-00:00:00 >/dev/null 2>&1 || true
  sacctmgr -i load file="$ETC/lab-assoc.cfg" >"$LOG/sacctmgr-load.log" 2>&1 \
    || { cat "$LOG/sacctmgr-load.log" >&2; die "sacctmgr load failed"; }
}

submit_workload() {
  if [ -n "$(squeue -h -o %i -n lab-long-root 2>/dev/null)" ]; then
    log "workload already present; not resubmitting"; return 0
  fi
  mkdir -p "$JOBS"; chmod 1777 "$JOBS"
  local sb=(sbatch --parsable --chdir="$JOBS" -o "$JOBS/%x-%j.out")
  local jid running_root qos_high=()
  [ "$ACCOUNTING" = 1 ] && qos_high=(--qos=high)   # QOS only exist with slurmdbd
  # running (c1, c2, c3, g1)
  running_root=$("${sb[@]}" -J lab-long-root -p debug -n1 --wrap 'sleep 86400')
  as_user alice "${sb[@]}" -J lab-long-alice -p batch -A physics -n2 --mem=1G --licenses=matlab:1 "${qos_high[@]}" --wrap 'sleep 86400' >/dev/null
  as_user bob   "${sb[@]}" -J lab-array -p debug -A chemistry -n1 --array=1-6%2 --wrap 'sleep 86400' >/dev/null
  "${sb[@]}" -J lab-on-c3 -p batch -w c3 -n1 --wrap 'sleep 86400' >/dev/null
  as_user alice "${sb[@]}" -J lab-gpu -p gpu -A physics -n1 --gres=gpu:tesla:1 --wrap 'sleep 86400' >/dev/null
  as_user bob   "${sb[@]}" -J lab-fluent -p batch -A chemistry -n1 --licenses=fluent:2 --wrap 'sleep 86400' >/dev/null
  as_user bob   "${sb[@]}" -J lab-timeout -p debug -A chemistry -n1 --time=1 --wrap 'sleep 600' >/dev/null  # TIMEOUT after ~1-2 min
  local want=8 i  # 6 jobs + 2 array tasks
  for i in $(seq 1 75); do
    [ "$(squeue -h -t R -o %i | grep -c .)" -ge "$want" ] && break
    sleep 0.2
  done
  [ "$(squeue -h -t R -o %i | grep -c .)" -ge "$want" ] || log "WARNING: not all sample jobs started: $(squeue -h -o '%j:%T:%r' | tr '\n' ' ')"
  # pending, for various reasons
  as_user alice "${sb[@]}" -J lab-big -p debug -A physics -N2 --exclusive --wrap 'sleep 600' >/dev/null          # Resources
  as_user alice "${sb[@]}" -J lab-gpu-big -p gpu -A physics -n1 --gres=gpu:tesla:2 --wrap 'sleep 600' >/dev/null # Resources
  as_user bob   "${sb[@]}" -J lab-fluent-wait -p batch -A chemistry -n1 --licenses=fluent:1 --wrap 'sleep 600' >/dev/null # Licenses
  as_user alice "${sb[@]}" -J lab-held -p debug -A physics -n1 --hold --wrap 'sleep 600' >/dev/null               # JobHeldUser
  jid=$("${sb[@]}" -J lab-admin-held -p debug -n1 --wrap 'sleep 600'); scontrol hold "$jid"                       # JobHeldAdmin
  "${sb[@]}" -J lab-dependent -p debug -n1 --dependency="afterok:$running_root" --wrap 'true' >/dev/null           # Dependency
  as_user bob   "${sb[@]}" -J lab-later -p batch -A chemistry -n1 --begin=now+1day --wrap 'true' >/dev/null        # BeginTime
  "${sb[@]}" -J lab-maint -p maint -n1 --wrap 'true' >/dev/null                                                     # PartitionDown
  # finished: completed, failed, cancelled
  "${sb[@]}" -J lab-ok -p debug -n1 --wrap 'echo hello' >/dev/null
  as_user alice "${sb[@]}" -J lab-fail -p debug -A physics -n1 --wrap 'echo boom >&2; exit 3' >/dev/null
  jid=$(as_user bob "${sb[@]}" -J lab-cancelled -p batch -A chemistry -n1 --begin=now+1hour --wrap 'true'); scancel "$jid"
  # node states: c3 draining (has a job), c4 drained, d1 down (no slurmd), f1 FUTURE
  scontrol update NodeName=c3 State=DRAIN Reason="lab: draining for maintenance"
  scontrol update NodeName=c4 State=DRAIN Reason="lab: bad DIMM"
  scontrol update NodeName=d1 State=DOWN Reason="lab: powered off"
  # reservations: one active (on drained c4), one in the future
  scontrol create reservation ReservationName=lab-active StartTime=now Duration=7-00:00:00 \
    Nodes=c4 Users=alice,root Flags=IGNORE_JOBS >/dev/null
  scontrol create reservation ReservationName=lab-maint StartTime=now+1day Duration=04:00:00 \
    Nodes=c[1-2] Users=root Flags=MAINT,IGNORE_JOBS >/dev/null
  # let short jobs finish so COMPLETED/FAILED show up right away (max ~10 s)
  for i in $(seq 1 50); do
    [ -z "$(squeue -h -n lab-ok,lab-fail -o %i)" ] && break
    sleep 0.2
  done
  # wait (max ~12 s) for a scheduling pass so pending jobs carry real reasons
  for i in $(seq 1 60); do
    squeue -h -t PD -o '%r' | grep -qx None || break
    sleep 0.2
  done
}

write_env() {
  local tok
  tok=$(scontrol token username=root lifespan="$TOKEN_LIFESPAN" | sed -n 's/^SLURM_JWT=//p')
  [ -n "$tok" ] || die "scontrol token returned nothing"
  rest_ping "$tok" || die "slurmrestd rejects the fresh token"
  umask 077
  # Plain KEY=VALUE lines only (usable by `set -a; .`, docker --env-file, $GITHUB_ENV).
  # NOTE: exporting SLURM_JWT also makes the Slurm CLI use JWT instead of munge.
  cat >"$ENV_FILE" <<EOF
SLURM_REST_URL=http://127.0.0.1:$REST_PORT
SLURM_REST_API_VERSION=v0.0.38
SLURM_JWT=$tok
SLURM_USER=root
SLURM_CONF=$CONF
SLURM_VERSION=$(sinfo -V | awk '{print $2}')
SLURM_CLUSTER=lab
SLURM_ACCOUNTING=$ACCOUNTING
SLURMCTLD_PORT=$CTLD_PORT
SLURMDBD_PORT=$([ "$ACCOUNTING" = 1 ] && echo "$DBD_PORT")
SLURM_JWT_EXPIRES=$(( $(date +%s) + TOKEN_LIFESPAN ))
SLURMRESTD_PORT=$REST_PORT
SLURM_LAB_STATE=$STATE
SLURM_JWT_KEY=$ETC/jwt_hs256.key
EOF
  chmod 644 "$ENV_FILE"
}

# ---------------------------------------------------------------- main
main() {
  mkdir -p "$LOG" "$RUN"
  local t; t=$(now)
  install_packages
  phase_done install "$t"

  t=$(now)
  local cold=0
  if ! any_daemon_alive; then
    cold=1
    # sweep leftovers of an earlier run (e.g. orphaned slurmstepd) that would
    # otherwise report stale job completions to the new slurmctld
    bash "$SCRIPT_DIR/stop.sh" "$STATE" >/dev/null 2>&1 || true
    if [ "$KEEP_STATE" != 1 ]; then
      log "cold start: wiping state in $STATE"
      rm -rf "$ETC" "$LOG" "$RUN" "$SPOOL" "$CTLD" "$MUNGE" "$MYSQL" "$JOBS" "$STATE/dev" "$ENV_FILE" "$STATE/timings.txt"
    fi
  else
    log "some lab daemons already running: starting only what is missing"
  fi
  mkdir -p "$ETC" "$LOG" "$RUN" "$SPOOL" "$CTLD" "$MUNGE" "$JOBS"
  chmod 755 "$STATE" "$ETC" "$RUN" "$LOG"
  ensure_user "$REST_USER"
  local u; for u in "${LAB_USERS[@]}"; do ensure_user "$u"; done
  write_configs
  phase_done configure "$t"

  t=$(now)
  [ $cold = 1 ] && check_ports
  local t1; t1=$(now); start_munged; phase_done munged "$t1"
  if [ "$ACCOUNTING" = 1 ]; then
    t1=$(now); start_mariadb; phase_done mariadb "$t1"
    t1=$(now); start_slurmdbd; phase_done slurmdbd "$t1"
    if [ "$DBD_STARTED" = 1 ]; then t1=$(now); setup_accounts; phase_done sacctmgr_setup "$t1"; fi
  fi
  t1=$(now); start_slurmctld; phase_done slurmctld "$t1"
  t1=$(now); start_slurmds; phase_done slurmds "$t1"
  t1=$(now); start_slurmrestd; phase_done slurmrestd "$t1"
  phase_done daemons_ready "$t"

  if [ "$WORKLOAD" = 1 ]; then
    t=$(now)
    submit_workload
    phase_done workload "$t"
  fi

  write_env
  phase_done total "$T0"
  printf '%s\n' "${TIMINGS[@]}" >"$STATE/timings.txt"
  log "cluster 'lab' is up (cold_start=$cold). timings: ${TIMINGS[*]}"
  log "env file: $ENV_FILE"
  cat "$ENV_FILE"
}
main "$@"
