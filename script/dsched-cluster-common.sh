# Shared by bin/start-all.sh, bin/stop-all.sh and bin/status-all.sh: reads
# conf/config/install_config.conf (DSCHED_INSTALL_CONFIG overrides) and runs
# bin/dolphinscheduler-daemon.sh on each host for each of its services. Sourced, not run.
set -uo pipefail
DSCHED_HOME=${DSCHED_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
install_config=${DSCHED_INSTALL_CONFIG:-$DSCHED_HOME/conf/config/install_config.conf}
[ -f "$install_config" ] || { echo "error: $install_config not found" >&2; exit 2; }
# shellcheck disable=SC1090
. "$install_config"
installPath=${installPath:-$DSCHED_HOME}
case "${sshPort:-22}" in '' | *[!0-9]*) echo "error: sshPort must be a port number, got '$sshPort'" >&2; exit 2 ;; esac

# Whether HOST is this machine: no SSH needed.
is_local() {
  case "$1" in localhost | 127.0.0.1 | ::1 | "$(hostname)" | "$(hostname -f 2>/dev/null)") return 0 ;; esac
  for ip in $(hostname -I 2>/dev/null); do [ "$1" = "$ip" ] && return 0; done
  return 1
}

# on_host HOST ACTION SERVICE [ENV=VALUE]: bin/dolphinscheduler-daemon.sh ACTION SERVICE there.
on_host() {
  local host=$1 action=$2 service=$3 env=${4:-}
  local cmd="cd '$installPath' && $env bin/dolphinscheduler-daemon.sh $action $service"
  if is_local "$host"; then
    bash -c "$cmd"
  else
    ssh -o BatchMode=yes -p "${sshPort:-22}" "${deployUser}@${host}" "$cmd"
  fi
}

# for_each ACTION SERVICE... : ACTION on every host of every SERVICE, in the order given.
# Returns non-zero when any call failed (each failure says why on its own line).
for_each() {
  local action=$1 rc=0 service hosts host entry seen
  shift
  for service in "$@"; do
    seen=" "
    case "$service" in
      master-server) hosts=$masters ;;
      worker-server) hosts=$workers ;;
      # A logger on every worker host: the API reads a task's log through the logger of the
      # host the task ran on.
      logger-server) hosts=$workers ;;
      alert-server) hosts=$alertServer ;;
      api-server) hosts=$apiServers ;;
    esac
    for entry in ${hosts//,/ }; do
      host=${entry%%:*}
      # One logger per host, however many worker entries name it.
      [[ $seen == *" $host "* ]] && continue
      [ "$service" = logger-server ] && seen="$seen$host "
      local env=""
      # A worker's group comes with its host (host:group).
      if [ "$service" = worker-server ] && [ "$entry" != "$host" ]; then env="DSCHED_WORKER_GROUP='${entry#*:}'"; fi
      echo "== $host: $action $service"
      on_host "$host" "$action" "$service" "$env" || rc=1
    done
  done
  return $rc
}
