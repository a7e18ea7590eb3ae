# Throwaway PostgreSQL 15 and MariaDB servers for the database tests, on loopback, on free
# ports, with data dirs under one temp dir (reference/deps.md, tested there). Sourced, not run:
#
#   . tests/db/services.sh; trap svc_stop_all EXIT; pg_start; maria_start; ...
#
# After pg_start: PG_PORT, PG_URL (jdbc:postgresql://127.0.0.1:$PG_PORT/ds); after maria_start:
# MY_PORT, MY_URL. Both have database `ds`, user `ds`, password `ds`. Password authentication
# is on for TCP (not trust), so a wrong password is refused as it would be in production.
# Needs root (the servers run as the postgres and mysql users). Apt does not start the system
# servers on this machine (policy-rc.d), and we never touch them: our ports are free ports.
set -euo pipefail

SVC_ROOT=${SVC_ROOT:-$(mktemp -d -t dsched-db.XXXXXX)}
chmod 755 "$SVC_ROOT"  # postgres/mysql must traverse it
PGBIN=/usr/lib/postgresql/15/bin
# Tests trade durability for speed (a throwaway server needs none). The benchmark sets
# SVC_DURABILITY=bench: the servers then keep their data safe across a crash of the server
# process (fsync on) and, like dsched's SQLite default (WAL, synchronous=NORMAL), may lose the
# last moment of commits on a power loss only.
if [ "${SVC_DURABILITY:-test}" = bench ]; then
  PG_DURABILITY="-c synchronous_commit=off"
  MY_DURABILITY="--innodb-flush-log-at-trx-commit=2"
else
  PG_DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  MY_DURABILITY="--innodb-flush-log-at-trx-commit=0"
fi

SVC_FREE_PORT_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/free_port.py"
svc_free_port() { python3 "$SVC_FREE_PORT_PY"; }  # below the ephemeral range: see free_port.py

# Skips (exit 77 from the caller) when the servers are not installed and cannot be.
svc_have_servers() {
  [ -x "$PGBIN/initdb" ] && command -v mariadbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1
}

pg_start() {
  PG_PORT=${PG_PORT:-$(svc_free_port)}
  mkdir -p "$SVC_ROOT/pg"
  chown postgres:postgres "$SVC_ROOT/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$SVC_ROOT/pg/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$SVC_ROOT/pg/initdb.log"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SVC_ROOT/pg/data" -l "$SVC_ROOT/pg/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SVC_ROOT/pg $PG_DURABILITY" \
    start >/dev/null
  # Administration over the unix socket (trust); clients use TCP with a password.
  psql -h "$SVC_ROOT/pg" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE USER ds WITH PASSWORD 'ds'" -c "CREATE DATABASE ds OWNER ds"
  PG_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/ds"
}
pg_stop() {
  [ -d "$SVC_ROOT/pg/data" ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SVC_ROOT/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
# pg_restart: stop and start again on the same port (the outage tests).
pg_restart() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SVC_ROOT/pg/data" -l "$SVC_ROOT/pg/pg.log" -m fast -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SVC_ROOT/pg $PG_DURABILITY" \
    restart >/dev/null
}
# pg_psql SQL...: runs statements in database ds as the superuser.
pg_psql() { psql -h "$SVC_ROOT/pg" -p "$PG_PORT" -U postgres -d ds -v ON_ERROR_STOP=1 -qAt "$@"; }

maria_start() {
  MY_PORT=${MY_PORT:-$(svc_free_port)}
  mkdir -p "$SVC_ROOT/my"
  chown mysql:mysql "$SVC_ROOT/my"
  mariadb-install-db --no-defaults --user=mysql --datadir="$SVC_ROOT/my/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$SVC_ROOT/my/install.log" 2>&1
  runuser -u mysql -- mariadbd --no-defaults --datadir="$SVC_ROOT/my/data" --bind-address=127.0.0.1 \
    --port="$MY_PORT" --socket="$SVC_ROOT/my/mysqld.sock" --pid-file="$SVC_ROOT/my/mysqld.pid" \
    --log-error="$SVC_ROOT/my/err.log" --skip-log-bin $MY_DURABILITY >/dev/null 2>&1 &
  echo $! >"$SVC_ROOT/my/launcher.pid"
  local ok=""
  for _ in $(seq 1 120); do
    if mariadb-admin --no-defaults -h127.0.0.1 -P"$MY_PORT" -uroot ping >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.5
  done
  [ -n "$ok" ] || { echo "mariadb did not start:"; cat "$SVC_ROOT/my/err.log"; return 1; }
  mariadb --no-defaults -h127.0.0.1 -P"$MY_PORT" -uroot -e \
    "CREATE DATABASE ds CHARACTER SET utf8mb4; CREATE USER 'ds'@'%' IDENTIFIED BY 'ds'; GRANT ALL ON ds.* TO 'ds'@'%';"
  MY_URL="jdbc:mysql://127.0.0.1:$MY_PORT/ds"
}
maria_stop() {
  [ -n "${MY_PORT:-}" ] || return 0
  mariadb-admin --no-defaults -h127.0.0.1 -P"$MY_PORT" -uroot shutdown >/dev/null 2>&1 || true
  if [ -f "$SVC_ROOT/my/launcher.pid" ]; then
    local pid
    pid=$(cat "$SVC_ROOT/my/launcher.pid")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}
# maria_sql SQL: runs statements in database ds as root.
maria_sql() { mariadb --no-defaults -h127.0.0.1 -P"$MY_PORT" -uroot -N -B ds -e "$1"; }

# pg_reset / maria_reset: an empty database ds again (between tests that create schemas).
pg_reset() {
  psql -h "$SVC_ROOT/pg" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q \
    -c "DROP DATABASE IF EXISTS ds WITH (FORCE)" -c "CREATE DATABASE ds OWNER ds"
}
maria_reset() {
  mariadb --no-defaults -h127.0.0.1 -P"$MY_PORT" -uroot -e \
    "DROP DATABASE IF EXISTS ds; CREATE DATABASE ds CHARACTER SET utf8mb4;"
}

# pg_add_db NAME / maria_add_db NAME: one more empty database, owned by (granted to) user ds
# (the benchmark's rounds each start on an empty one).
pg_add_db() {
  psql -h "$SVC_ROOT/pg" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE $1 OWNER ds"
}
maria_add_db() {
  mariadb --no-defaults -h127.0.0.1 -P"$MY_PORT" -uroot -e \
    "CREATE DATABASE $1 CHARACTER SET utf8mb4; GRANT ALL ON $1.* TO 'ds'@'%';"
}

# zk_start: a throwaway ZooKeeper (standalone, reference/deps.md) on loopback; after it ZK_PORT
# and ZK_CONNECT (127.0.0.1:$ZK_PORT). tickTime 2000 ms: sessions of 4 s to 40 s. Needs the
# zookeeper and default-jre-headless packages (svc_have_zookeeper), not root.
svc_have_zookeeper() { command -v java >/dev/null 2>&1 && [ -f /usr/share/java/zookeeper.jar ]; }
zk_start() {
  ZK_PORT=${ZK_PORT:-$(svc_free_port)}
  mkdir -p "$SVC_ROOT/zk/data"
  cat >"$SVC_ROOT/zk/zoo.cfg" <<CFG
tickTime=2000
dataDir=$SVC_ROOT/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
maxSessionTimeout=60000
CFG
  java -Xmx256m -Djava.net.preferIPv4Stack=true -cp "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$SVC_ROOT/zk/zoo.cfg" >"$SVC_ROOT/zk/zk.out" 2>&1 &
  echo $! >"$SVC_ROOT/zk/zk.pid"
  # It answers ruok before it serves: wait for srvr to report the standalone mode. While it
  # starts it may accept a connection and never answer nor close it: each try has 2 s.
  local out=""
  for _ in $(seq 1 120); do
    out=$( (exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && echo srvr >&3 && timeout 2 cat <&3) 2>/dev/null || true)
    [[ $out == *"Mode: standalone"* ]] && break
    sleep 0.5
  done
  [[ $out == *"Mode: standalone"* ]] || { echo "zookeeper did not start:"; cat "$SVC_ROOT/zk/zk.out"; return 1; }
  ZK_CONNECT="127.0.0.1:$ZK_PORT"
}
zk_stop() {
  [ -f "$SVC_ROOT/zk/zk.pid" ] || return 0
  local pid
  pid=$(cat "$SVC_ROOT/zk/zk.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$SVC_ROOT/zk/zk.pid"
}

svc_stop_all() {
  zk_stop || true
  maria_stop || true
  pg_stop || true
  rm -rf "$SVC_ROOT"
}
