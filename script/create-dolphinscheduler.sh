#!/usr/bin/env bash
# Creates the dsched schema and base data (admin user, default queue and alert group) in the
# database that conf/datasource.conf and the environment name, as DolphinScheduler's script of
# this name does. Refuses a database that already holds a schema (use
# upgrade-dolphinscheduler.sh). Extra arguments go to `dsched db create`.
set -euo pipefail
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/dsched-db-common.sh"
exec "$DSCHED_BIN" db create --config "$DSCHED_CONF" "$@"
