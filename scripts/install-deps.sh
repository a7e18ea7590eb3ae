#!/usr/bin/env bash
# Installs the Debian packages dsched needs to build, test and benchmark, and only those that
# are missing. Idempotent: a second run installs nothing. Needs root (or sudo) on Debian 12.
# postgresql-15 and mariadb-server are test servers: the database tests start throwaway
# instances on loopback (tests/db/services.sh); apt's own instances are never used. zookeeper
# (with Java) is a test server too (tests/registry/run_zk_tests.sh); libzookeeper-mt-dev is the
# ZooKeeper client of cluster mode.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libsoci-dev libsqlite3-dev sqlite3 libpq-dev libmariadb-dev
  postgresql-15 mariadb-server mariadb-client
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev
  curl python3 wrk
  libcurl4-openssl-dev python3-aiosmtpd
  libzookeeper-mt-dev zookeeper default-jre-headless
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
