#!/usr/bin/env bash
# Stops every dsched service of the cluster that conf/config/install_config.conf lists, on its
# host (over SSH unless it is this machine), through bin/dolphinscheduler-daemon.sh stop.
# Exit status: 0 when every call succeeded, 1 otherwise.
# shellcheck disable=SC1091
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/script/dsched-cluster-common.sh"
for_each stop api-server alert-server logger-server worker-server master-server
