# Shared by create-dolphinscheduler.sh and upgrade-dolphinscheduler.sh: finds the install
# directory and the dsched binary, and loads the environment DolphinScheduler's scripts load.
# Sourced, not run.
DSCHED_HOME=${DSCHED_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# Relative paths in conf/ (data.dir) are relative to the install directory.
cd "$DSCHED_HOME"
# DolphinScheduler keeps DATABASE and SPRING_DATASOURCE_* in this file; honour it the same way.
if [ -f "$DSCHED_HOME/conf/env/dolphinscheduler_env.sh" ]; then
  # shellcheck disable=SC1091
  . "$DSCHED_HOME/conf/env/dolphinscheduler_env.sh"
fi
DSCHED_CONF=${DSCHED_CONF:-$DSCHED_HOME/conf/datasource.conf}
if [ -z "${DSCHED_BIN:-}" ]; then
  for candidate in "$DSCHED_HOME/bin/dsched" "$DSCHED_HOME/build/src/cli/dsched" "$(command -v dsched || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then DSCHED_BIN=$candidate; break; fi
  done
fi
if [ -z "${DSCHED_BIN:-}" ]; then
  echo "error: no dsched binary in $DSCHED_HOME/bin or on the PATH (set DSCHED_BIN)" >&2
  exit 2
fi
