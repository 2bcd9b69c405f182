#!/usr/bin/env bash
# Runs the Marquee fleet locally on the embedded defaults: SQLite files under
# ./data, in-process cache. Nothing to install but the Rust toolchain.
#
#   scripts/dev.sh           build and start every service, logs prefixed by name
#   scripts/dev.sh --reset   start over with empty databases
#
# With DATABASE_URL_<SERVICE> (e.g. DATABASE_URL_PLATFORM_CORE=postgres://…) and
# REDIS_URL set, the same services run on PostgreSQL and Redis. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--reset" ]]; then
  echo "Removing ./data"
  rm -rf ./data
fi
mkdir -p ./data

# A per-checkout secret for service-to-service calls; never a built-in default.
if [[ ! -s ./data/internal-service-token ]]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > ./data/internal-service-token
fi
export INTERNAL_SERVICE_TOKEN="$(cat ./data/internal-service-token)"
export LOG_FORMAT="${LOG_FORMAT:-pretty}"

cargo build --bins

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the fleet…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# start NAME BINARY DEFAULT_DATABASE_URL [ENV=VALUE…]
start() {
  local name=$1 binary=$2 default_db=$3; shift 3
  local db_var="DATABASE_URL_${name//-/_}"; db_var="${db_var^^}"
  env DATABASE_URL="${!db_var:-$default_db}" "$@" "./target/debug/$binary" \
    > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
}

start platform-core marquee-platform-core "sqlite://./data/platform-core.db"

cat <<INFO

Marquee is starting:
  platform-core  REST http://127.0.0.1:8082   gRPC 127.0.0.1:9082

Try:
  curl -s http://127.0.0.1:8082/healthz
  curl -s http://127.0.0.1:8082/readyz

Ctrl-C stops every service.
INFO
wait
