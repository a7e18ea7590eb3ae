#!/usr/bin/env bash
# Reports every dsched service of the cluster that conf/config/install_config.conf lists, on its
# host (over SSH unless it is this machine), through bin/dolphinscheduler-daemon.sh status.
# Exit status: 0 when every call succeeded, 1 otherwise.
# shellcheck disable=SC1091
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/script/dsched-cluster-common.sh"
for_each status master-server worker-server logger-server alert-server api-server
