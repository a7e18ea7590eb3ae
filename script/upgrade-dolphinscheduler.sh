#!/usr/bin/env bash
# Upgrades the dsched schema of the database that conf/datasource.conf and the environment name
# to the version this dsched serves, applying each newer version once, in order, as
# DolphinScheduler's script of this name does. A second run does nothing. Extra arguments go to
# `dsched db upgrade`.
set -euo pipefail
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/dsched-db-common.sh"
exec "$DSCHED_BIN" db upgrade --config "$DSCHED_CONF" "$@"
