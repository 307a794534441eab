#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for testing lockin's batch
# scripts against a real Slurm: munged, slurmctld and slurmd as root, no
# cgroups, state under $LOCKIN_SLURM_DIR (default /tmp/lockin-slurm).
#
#   scripts/slurm/local-cluster.sh start   # installs Debian's slurm-wlm and munge if missing
#   scripts/slurm/local-cluster.sh stop
#
# Afterwards `export SLURM_CONF=$LOCKIN_SLURM_DIR/slurm.conf` points sbatch,
# squeue and sacct at it (start prints the line).
set -euo pipefail

dir=${LOCKIN_SLURM_DIR:-/tmp/lockin-slurm}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

install_missing() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v munged >/dev/null; then
    return
  fi
  echo "local-cluster: installing slurmctld, slurmd, slurm-client and munge (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

write_config() {
  mkdir -p "$dir"/{state,spool,log}
  local cpus mem host
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  host=$(hostname -s)
  cat > "$conf" <<CONF
ClusterName=lockin-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  install_missing
  write_config
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if ! munge -n >/dev/null 2>&1; then
    if id munge >/dev/null 2>&1; then
      runuser -u munge -- /usr/sbin/munged
    else
      /usr/sbin/munged --force
    fi
  fi
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null
  stop_daemons
  local running
  running=$(ps -eo pid=,stat=,comm= | awk '$2 !~ /Z/ && ($3 == "slurmctld" || $3 == "slurmd") {print $1}' | xargs)
  if [ -n "$running" ]; then
    echo "local-cluster: another slurmctld/slurmd is running (pids $running); stop it first (ports 16817/16818)" >&2
    exit 1
  fi
  /usr/sbin/slurmctld -c
  /usr/sbin/slurmd -c
  for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
      echo "local-cluster: up ($(sinfo -h -o '%N %c CPUs %T')); export SLURM_CONF=$conf"
      return
    fi
    sleep 0.2
  done
  echo "local-cluster: the node did not become idle; logs in $dir/log" >&2
  sinfo >&2 || true
  tail -n 20 "$dir"/log/*.log >&2 || true
  exit 1
}

stop_daemons() {
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    if [ -s "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
  done
  for _ in $(seq 50); do
    pgrep -f "^/usr/sbin/slurm(ctld|d) -c" >/dev/null || break
    sleep 0.1
  done
  rm -f "$dir/slurmd.pid" "$dir/slurmctld.pid"
}

case ${1:-} in
  start) start ;;
  stop) stop_daemons; echo "local-cluster: stopped (munged left running)" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
