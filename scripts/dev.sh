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
# The keys that seal auth's signing keys and base's ticket keys at rest, and
# the first platform admin.
if [[ ! -s ./data/signing-key-encryption-key ]]; then
  head -c 32 /dev/urandom | base64 > ./data/signing-key-encryption-key
fi
if [[ ! -s ./data/ticket-key-encryption-key ]]; then
  head -c 32 /dev/urandom | base64 > ./data/ticket-key-encryption-key
fi
if [[ ! -s ./data/admin-password ]]; then
  head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > ./data/admin-password
fi
export MARQUEE_ADMIN_EMAIL="${MARQUEE_ADMIN_EMAIL:-admin@marquee.local}"
export MARQUEE_ADMIN_PASSWORD="${MARQUEE_ADMIN_PASSWORD:-$(cat ./data/admin-password)}"
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

start auth marquee-auth "sqlite://./data/auth.db" \
  SIGNING_KEY_ENCRYPTION_KEY="$(cat ./data/signing-key-encryption-key)" MAIL_DIR=./data/mail
start platform-core marquee-platform-core "sqlite://./data/platform-core.db"
start base marquee-base "sqlite://./data/base.db" \
  TICKET_KEY_ENCRYPTION_KEY="$(cat ./data/ticket-key-encryption-key)"
start financial marquee-financial "sqlite://./data/financial.db"

# Wait until every service answers, and base hears auth.
for port in 8081 8082 8083 8084; do
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
done
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:8083/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# The demo, seeded once: running again keeps it (and everything else).
if [[ ! -s ./data/demo-password ]]; then
  head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n' > ./data/demo-password
fi
export DEMO_PASSWORD="$(cat ./data/demo-password)"
if [[ ! -s ./data/demo.env ]]; then
  echo "Seeding the demo…"
  ./target/debug/marquee-demo > ./data/demo.env.partial && mv ./data/demo.env.partial ./data/demo.env
fi
# shellcheck disable=SC1091
source ./data/demo.env

cat <<INFO

Marquee is running:
  auth           REST http://127.0.0.1:8081   gRPC 127.0.0.1:9081
  platform-core  REST http://127.0.0.1:8082   gRPC 127.0.0.1:9082
  base           REST http://127.0.0.1:8083
  financial      REST http://127.0.0.1:8084   gRPC 127.0.0.1:9084

Platform admin:  $MARQUEE_ADMIN_EMAIL / $MARQUEE_ADMIN_PASSWORD
Demo company:    $DEMO_ORG ("Demo Live", package "demo" with basic and financial)
  owner          $DEMO_OWNER / $DEMO_PASSWORD
  member         $DEMO_MEMBER / $DEMO_PASSWORD (role "Booker": views, and creates offers)
Mail (verification and reset links) is written to ./data/mail as .eml files.

Try:
  TOKEN=\$(curl -s http://127.0.0.1:8081/v1/auth/login -H 'content-type: application/json' \\
    -d '{"email":"$DEMO_OWNER","password":"$DEMO_PASSWORD"}' | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')
  curl -s http://127.0.0.1:8083/v1/dashboard -H "authorization: Bearer \$TOKEN" -H "x-org: $DEMO_ORG"
  curl -s http://127.0.0.1:8083/v1/artists -H "authorization: Bearer \$TOKEN" -H "x-org: $DEMO_ORG"
  curl -s http://127.0.0.1:8084/v1/ledger/trial-balance -H "authorization: Bearer \$TOKEN" -H "x-org: $DEMO_ORG"

Ctrl-C stops every service.
INFO
wait
