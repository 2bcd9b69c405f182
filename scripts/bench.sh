#!/usr/bin/env bash
# Measures the hot paths on loopback and writes bench/REPORT.md and
# bench/report.json. Every figure stands beside a floor measured in the same
# run where one exists, since absolute numbers drift on shared machines. Not
# part of the tests.
#
#   scripts/bench.sh           10 s a figure
#   scripts/bench.sh --quick   2 s a figure
#
# The fleet runs from release binaries on the embedded defaults (SQLite, the
# in-process cache) and then, when BENCH_POSTGRES_URL (a server, e.g.
# postgres://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL are set,
# again on PostgreSQL and Redis, in fresh databases it makes for the run.
# Rate limits are lifted for the run (load is the point), except for the
# overload figure, which is about what happens beyond capacity.
#
# HTTP load comes from wrk (Debian's package; installed here when missing and
# run as root); what wrk cannot do (gRPC, chained refresh tokens, an offered
# rate, first visits, revocations) from tools/bench, built with the services.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
duration=$([[ $quick == 1 ]] && echo 2 || echo 10)
cold_visits=$([[ $quick == 1 ]] && echo 300 || echo 1000)
revocations=$([[ $quick == 1 ]] && echo 10 || echo 30)

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]]; then apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; fi
  command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
fi

echo "==> release build"
built_at=$(date +%s)
cargo build --release --locked -q -p marquee-auth -p marquee-platform-core -p marquee-base -p marquee-financial \
  -p marquee-demo -p marquee-bench
echo "    $(( $(date +%s) - built_at )) s"
bench=./target/release/marquee-bench
started_at=$(date +%s)

run=$(mktemp -d)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
trap 'stop_all; rm -rf "$run"' EXIT
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

export INTERNAL_SERVICE_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export MARQUEE_ADMIN_EMAIL=admin@bench.local MARQUEE_ADMIN_PASSWORD="bench admin password"
export DEMO_PASSWORD="bench demo password"
export LOG_LEVEL=warn LOG_FORMAT=json
export AUTH_JWKS_URL=http://127.0.0.1:18081/.well-known/jwks.json AUTH_GRPC_URL=http://127.0.0.1:19081
export PLATFORM_CORE_GRPC_URL=http://127.0.0.1:19082 FINANCIAL_GRPC_URL=http://127.0.0.1:19084
export RATE_LIMIT_PER_USER=1000000000 RATE_LIMIT_PER_COMPANY=1000000000
export AUTH_RATE_LIMIT_PER_IP=1000000000 AUTH_RATE_LIMIT_PER_ACCOUNT=1000000000
signing_key="$(head -c 32 /dev/urandom | base64)"
ticket_key="$(head -c 32 /dev/urandom | base64)"
figures="$run/figures.jsonl"
# Lua for wrk scripts that write: each wrk thread has its own Lua state, so
# each gets a number of its own, its own random sequence, and keys no other
# thread (or run) makes; without that, two threads send the same keys and half
# of the writes are idempotent replays.
wrk_threads=$(cat <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
  thread:set("run_id", tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000)))
end
local n = 0
function init(args)
  math.randomseed(os.time() * 100 + thread_id)
end
function key()
  n = n + 1
  return run_id .. "-" .. thread_id .. "-" .. n
end
LUA
)
: > "$figures"

record() { # BACKEND FIGURE JSON
  echo "{\"backend\":\"$1\",\"figure\":\"$2\",\"result\":$3}" >> "$figures"
}
# wrk's summary as JSON.
measure() { # CONNECTIONS URL [wrk args…]
  local c=$1 url=$2; shift 2
  wrk -t2 -c"$c" -d"${duration}s" --latency "$@" "$url" | $bench wrk
}
field() { # JSON KEY → a top-level number or string
  sed -E "s/.*\"$2\":\"?([^,\"}]*)\"?.*/\1/" <<<"$1"
}

declare -A pid_of
start() { # NAME HTTP GRPC [ENV=VALUE…]
  local name=$1 http=$2 grpc=$3; shift 3
  env HTTP_ADDR="127.0.0.1:$http" GRPC_ADDR="127.0.0.1:$grpc" "$@" \
    "./target/release/marquee-$name" > "$run/$name.log" 2>&1 &
  pids+=("$!"); pid_of[$name]=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && return; sleep 0.05; done
  echo "$name did not start:"; cat "$run/$name.log"; exit 1
}
# A figure's profile: what each service used while it ran (CPU seconds,
# statements, group commits, and per group-committed path its batches and their seconds), what the load generator used, and the
# machine's busy CPU, so that a figure below its target shows where the
# time went.
hz=$(getconf CLK_TCK)
declare -A port_of=([auth]=18081 [platform-core]=18082 [base]=18083 [financial]=18084)
# Each group-committed path's batches, the writes they carried, the seconds
# they took and the seconds their commits took, as JSON keyed by path.
groups() {
  awk '/^group_commit_(batches_total|jobs_total|batch_seconds_sum|commit_seconds_sum)\{/ {
    match($0, /path="[^"]*"/); path = substr($0, RSTART + 6, RLENGTH - 7)
    name = $1; sub(/\{.*/, "", name); seen[path] = 1; value[path, name] += $NF
  }
  END {
    printf "{"; sep = ""
    for (p in seen) {
      printf "%s\"%s\":{\"batches\":%.0f,\"jobs\":%.0f,\"seconds\":%.4f,\"commitSeconds\":%.4f}", sep, p,
        value[p, "group_commit_batches_total"], value[p, "group_commit_jobs_total"], value[p, "group_commit_batch_seconds_sum"],
        value[p, "group_commit_commit_seconds_sum"]
      sep = ","
    }
    printf "}"
  }'
}
usage() {
  local s metrics json="{"
  for s in auth platform-core base financial; do
    metrics=$(curl -s "http://127.0.0.1:${port_of[$s]}/metrics")
    json+="\"$s\":{\"cpu\":$(awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' "/proc/${pid_of[$s]}/stat"),"
    json+="\"statements\":$(awk '/^db_statements_total/ {n += $NF} END {printf "%.0f", n}' <<<"$metrics"),"
    json+="\"commits\":$(awk '/^group_commit_batches_total/ {n += $NF} END {printf "%.0f", n}' <<<"$metrics"),"
    json+="\"groups\":$(groups <<<"$metrics")},"
  done
  json+="\"machine\":$(awk -v hz="$hz" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat),"
  echo "$json\"at\":$(date +%s.%N)}"
}
# Runs a load, noting the CPU seconds it used (its processes' user + system).
loaded() {
  "$@"
  times > "$run/times"
  awk 'NR == 2 {gsub(/[ms]/, " "); printf "%.2f", $1 * 60 + $2 + $3 * 60 + $4}' "$run/times" > "$run/load-cpu"
}
profile_json() { # USAGE_BEFORE LOAD_JSON
  local requests
  requests=$(awk -v a="$(field "$2" ok)" -v b="$(field "$2" errors)" 'BEGIN {printf "%.0f", a + b}')
  echo "{\"before\":$1,\"after\":$(usage),\"requests\":$requests,\"loadCpu\":$(cat "$run/load-cpu")}"
}
profile() { # BACKEND FIGURE USAGE_BEFORE LOAD_JSON
  record "$1" "profile_$2" "$(profile_json "$3" "$4")"
}
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/${pid_of[$1]}/status"; }
rss_all() {
  echo "{\"auth\":$(rss auth),\"platform-core\":$(rss platform-core),\"base\":$(rss base),\"financial\":$(rss financial)}"
}

# The ledger's floor on PostgreSQL: pgbench at 32 clients running the naive
# single-entry transaction (lock both accounts, insert the entry and its
# postings, update both balances, commit) against accounts of its own.
pgbench_ledger() { # ACCOUNTS
  local n=$1 url
  url=$($bench fresh-db "$BENCH_POSTGRES_URL" "marquee_bench_pgbench_$n")
  psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<SQL
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);
CREATE TABLE entries (id bigserial PRIMARY KEY, description text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE postings (id bigserial PRIMARY KEY, entry_id bigint NOT NULL REFERENCES entries, account_id int NOT NULL REFERENCES accounts, amount bigint NOT NULL);
INSERT INTO accounts (id) SELECT generate_series(1, $n);
SQL
  cat > "$run/pgbench.sql" <<'SQL'
\set a random(1, :accounts)
\set b 1 + (:a + random(0, :accounts - 2)) % :accounts
\set amount random(1, 100000)
BEGIN;
SELECT balance FROM accounts WHERE id IN (:a, :b) ORDER BY id FOR UPDATE;
INSERT INTO entries (description, created_at) VALUES ('transfer', now()) RETURNING id \gset
INSERT INTO postings (entry_id, account_id, amount) VALUES (:id, :a, :amount), (:id, :b, -:amount);
UPDATE accounts SET balance = balance + :amount WHERE id = :a;
UPDATE accounts SET balance = balance - :amount WHERE id = :b;
COMMIT;
SQL
  local out
  out=$(pgbench -n -c 32 -j 2 -T "$duration" -D accounts="$n" -f "$run/pgbench.sql" "$url" 2>&1)
  local tps failed
  tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out" | head -1)
  failed=$(sed -nE 's/.*number of failed transactions: ([0-9]+).*/\1/p' <<<"$out" | head -1)
  [[ -n $tps ]] || { echo "pgbench failed: $out" >&2; exit 1; }
  echo "{\"rate\":$tps,\"failed\":${failed:-0},\"balance\":$(psql -tA "$url" -c 'SELECT COALESCE(SUM(balance), 0) FROM accounts')}"
}

bench_backend() { # BACKEND
  local backend=$1
  declare -A db
  local redis=()
  for s in auth platform-core base financial; do
    if [[ $backend == sqlite ]]; then
      db[$s]="sqlite://$run/$backend-$s.db?mode=rwc"
    else
      db[$s]=$($bench fresh-db "$BENCH_POSTGRES_URL" "marquee_bench_${s//-/_}")
    fi
  done
  [[ $backend == postgres ]] && redis=(REDIS_URL="$BENCH_REDIS_URL" REDIS_PREFIX="bench-$(date +%s%N)")
  echo "==> $backend: starting the fleet"
  start platform-core 18082 19082 DATABASE_URL="${db[platform-core]}" "${redis[@]}"
  start auth 18081 19081 DATABASE_URL="${db[auth]}" "${redis[@]}" SIGNING_KEY_ENCRYPTION_KEY="$signing_key" MAIL_DIR="$run/mail"
  start financial 18084 19084 DATABASE_URL="${db[financial]}" "${redis[@]}"
  start base 18083 19083 DATABASE_URL="${db[base]}" "${redis[@]}" TICKET_KEY_ENCRYPTION_KEY="$ticket_key" MEDIA_DIR="$run/media"
  for _ in $(seq 1 200); do curl -sf http://127.0.0.1:18083/readyz >/dev/null && break; sleep 0.05; done
  # Idle: ready and two seconds without a request (auth hashes at start, and a
  # hashing thread gives its working memory back after a second without work).
  sleep 2
  record "$backend" rss_idle "$(rss_all)"

  echo "==> $backend: seeding"
  AUTH_URL=http://127.0.0.1:18081 PLATFORM_CORE_URL=http://127.0.0.1:18082 BASE_URL=http://127.0.0.1:18083 \
    ./target/release/marquee-demo > "$run/demo.env"
  # shellcheck disable=SC1091
  source "$run/demo.env"
  local token
  token=$(curl -s http://127.0.0.1:18081/v1/auth/login -H 'content-type: application/json' \
    -d "{\"email\":\"$DEMO_OWNER\",\"password\":\"$DEMO_PASSWORD\"}" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
  api() { # SERVICE_PORT PATH [curl args…]
    curl -s "http://127.0.0.1:$1$2" -H "authorization: Bearer $token" -H "x-org: $DEMO_ORG" \
      -H 'content-type: application/json' "${@:3}"
  }
  for i in $(seq 1 48); do api 18083 /v1/artists -o /dev/null -d "{\"name\":\"Bench act $i\"}"; done

  echo "==> $backend: guarded list against the unguarded floor (64 connections, three turns)"
  $bench floor-list "${db[base]}" "$DEMO_ORG" 127.0.0.1:18090 &
  local floor_pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/v1/artists >/dev/null && break; sleep 0.05; done
  api 18083 /v1/artists -o /dev/null
  # The floor and the guarded list back to back, three times: a machine that
  # drifts during the run moves both figures of a turn alike. The turn with
  # the median ratio is the one reported; every turn is kept in list_turns.
  local turn turns=() floors=() guardeds=() profiles=() floor_profiles=() before load
  for turn in 0 1 2; do
    before=$(usage)
    floors[turn]=$(loaded measure 64 http://127.0.0.1:18090/v1/artists)
    floor_profiles[turn]=$(profile_json "$before" "${floors[turn]}")
    before=$(usage)
    load=$(loaded measure 64 http://127.0.0.1:18083/v1/artists -H "authorization: Bearer $token" -H "x-org: $DEMO_ORG")
    guardeds[turn]=$load
    profiles[turn]=$(profile_json "$before" "$load")
    turns+=("$(awk -v g="$(field "$load" rate)" -v f="$(field "${floors[turn]}" rate)" -v t="$turn" \
      'BEGIN {printf "%.6f %d", g / (f > 0 ? f : 1e-9), t}')")
  done
  kill "$floor_pid"; wait "$floor_pid" 2>/dev/null || true
  local median
  median=$(printf '%s\n' "${turns[@]}" | sort -n | sed -n 2p | cut -d' ' -f2)
  record "$backend" list_floor "${floors[median]}"
  record "$backend" list_guarded "${guardeds[median]}"
  record "$backend" profile_list_guarded "${profiles[median]}"
  record "$backend" profile_list_floor "${floor_profiles[median]}"
  record "$backend" list_turns "[$(for turn in 0 1 2; do
    printf '%s{"floor":%s,"guarded":%s}' "$([[ $turn == 0 ]] || echo ,)" "${floors[turn]}" "${guardeds[turn]}"
  done)]"
  # The data layer's floor: the same SELECTs from plain axum + sqlx, with the
  # pool base reads through (its four read connections on SQLite,
  # DATABASE_MAX_CONNECTIONS' default of 16 on PostgreSQL).
  local connections=16
  [[ $backend == sqlite ]] && connections=4
  $bench raw-list "${db[base]}" "$DEMO_ORG" "$connections" 127.0.0.1:18091 &
  local raw_pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18091/v1/artists >/dev/null && break; sleep 0.05; done
  record "$backend" list_raw "$(measure 64 http://127.0.0.1:18091/v1/artists)"
  kill "$raw_pid"; wait "$raw_pid" 2>/dev/null || true

  echo "==> $backend: cold path, $cold_visits first visits (16 connections)"
  $bench companies http://127.0.0.1:18081 "$token" "$((cold_visits + 100))" > "$run/companies"
  head -n 100 "$run/companies" > "$run/warm-up"
  tail -n +101 "$run/companies" > "$run/first-visits"
  # The new companies' own change events settle before the clock starts.
  sleep 1
  # The first burst makes auth's and platform-core's pools open their
  # connections (once per process; on PostgreSQL that put a 100 ms tail on
  # the figure): 100 first visits at the same concurrency go first, unmeasured.
  $bench cold http://127.0.0.1:18083 "$token" "$run/warm-up" 16 > /dev/null
  before=$(usage)
  load=$(loaded $bench cold http://127.0.0.1:18083 "$token" "$run/first-visits" 16)
  record "$backend" cold "$load"
  profile "$backend" cold "$before" "$load"

  echo "==> $backend: ResolveAccess over gRPC against a tonic echo (64 in flight)"
  $bench echo-server 127.0.0.1:19090 &
  local echo_pid=$!
  sleep 0.3
  record "$backend" echo "$($bench grpc-echo http://127.0.0.1:19090 64 "$duration")"
  kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true
  record "$backend" resolve "$($bench grpc-resolve http://127.0.0.1:19081 "$INTERNAL_SERVICE_TOKEN" "$token" \
    "$DEMO_ORG" 64 "$duration")"

  echo "==> $backend: login against raw argon2id at the same parameters (2 threads)"
  local argon2
  argon2=$($bench argon2 "$duration" 2 19456 2)
  record "$backend" argon2 "$argon2"
  cat > "$run/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"email":"$DEMO_MEMBER","password":"$DEMO_PASSWORD"}'
LUA
  record "$backend" login "$(measure 4 http://127.0.0.1:18081/v1/auth/login -s "$run/login.lua")"
  local offered
  offered=$(awk -v r="$(field "$argon2" rate)" 'BEGIN { printf "%.0f", 4 * r }')
  record "$backend" login_overload "$($bench login-open http://127.0.0.1:18081 "$DEMO_MEMBER" "$DEMO_PASSWORD" \
    "$offered" "$duration")"

  echo "==> $backend: refresh, 32 sessions rotating their tokens"
  before=$(usage)
  load=$(loaded $bench refresh http://127.0.0.1:18081 "$DEMO_MEMBER" "$DEMO_PASSWORD" 32 "$duration")
  record "$backend" refresh "$load"
  profile "$backend" refresh "$before" "$load"

  echo "==> $backend: ledger, two-posting entries, 32 writers"
  local accounts=()
  for i in $(seq 1 50); do
    accounts+=("$(api 18084 /v1/ledger/accounts -d "{\"code\":\"bench-$i\",\"name\":\"Bench $i\",\"kind\":\"asset\",\"currency\":\"EUR\"}" \
      | sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/')")
  done
  local acknowledged=0
  for hot in 50 10; do
    local list
    list=$(printf '"%s",' "${accounts[@]:0:$hot}")
    cat > "$run/ledger.lua" <<LUA
$wrk_threads
local accounts = {${list%,}}
request = function()
  local a = math.random(1, #accounts)
  local b = math.random(1, #accounts - 1)
  if b >= a then b = b + 1 end
  local amount = math.random(1, 100000)
  local body = '{"description":"Bench transfer","effectiveDate":"2026-12-01","idempotencyKey":"' ..
    key() .. '","postings":[' ..
    '{"accountId":"' .. accounts[a] .. '","direction":"debit","amount":' .. amount .. ',"currency":"EUR"},' ..
    '{"accountId":"' .. accounts[b] .. '","direction":"credit","amount":' .. amount .. ',"currency":"EUR"}]}'
  return wrk.format("POST", "/v1/ledger/entries", {["authorization"] = "Bearer $token", ["x-org"] = "$DEMO_ORG", ["content-type"] = "application/json"}, body)
end
LUA
    before=$(usage)
    load=$(loaded measure 32 http://127.0.0.1:18084/v1/ledger/entries -s "$run/ledger.lua")
    profile "$backend" "ledger_$hot" "$before" "$load"
    acknowledged=$(awk -v a="$acknowledged" -v b="$(field "$load" ok)" 'BEGIN { printf "%.0f", a + b }')
    record "$backend" "ledger_$hot" "{\"load\":$load,\"acknowledged\":$acknowledged,\"check\":$($bench ledger-check "${db[financial]}")}"
    if [[ $backend == postgres ]]; then record "$backend" "pgbench_$hot" "$(pgbench_ledger "$hot")"; fi
  done

  echo "==> $backend: revocation to first refusal at base, $revocations rounds"
  record "$backend" revocation "$($bench revocation http://127.0.0.1:18081 http://127.0.0.1:18083 "$DEMO_MEMBER" \
    "$DEMO_PASSWORD" "$DEMO_ORG" "$revocations")"

  echo "==> $backend: ticket registrations, 500 concurrent buyers on one ticket type"
  local venue made event ticket capacity
  venue=$(api 18083 "/v1/venues?limit=1" | sed -E 's/.*"data":\[\{"id":"([^"]+)".*/\1/')
  made=$(api 18083 /v1/events -d "{\"name\":\"Bench night\",\"venueId\":\"$venue\",\"startsAt\":\"2031-06-01T20:00:00Z\",\"endsAt\":\"2031-06-01T23:00:00Z\"}")
  event=$(sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/' <<<"$made")
  [[ "$event" =~ ^[0-9a-f-]{36}$ ]] || { echo "could not create the bench event: $made" >&2; exit 1; }
  api 18083 "/v1/events/$event/announce" -d '{}' >/dev/null
  api 18083 "/v1/events/$event/start-sales" -d '{}' >/dev/null
  capacity=$(( duration * 3000 ))
  ticket=$(api 18083 "/v1/events/$event/ticket-types" -d "{\"name\":\"GA\",\"priceMinor\":2500,\"currency\":\"EUR\",\"capacity\":$capacity}" | sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/')
  cat > "$run/register.lua" <<LUA
$wrk_threads
request = function()
  local body = '{"ticketTypeId":"$ticket","attendeeName":"Buyer","attendeeEmail":"buyer@example.com","quantity":1,"idempotencyKey":"' .. key() .. '"}'
  return wrk.format("POST", "/v1/events/$event/registrations", {["authorization"] = "Bearer $token", ["x-org"] = "$DEMO_ORG", ["content-type"] = "application/json"}, body)
end
LUA
  local sales sold confirmed
  before=$(usage)
  load=$(loaded measure 500 "http://127.0.0.1:18083/v1/events/$event/registrations" -s "$run/register.lua")
  profile "$backend" registrations "$before" "$load"
  sales=$(api 18083 "/v1/events/$event/sales")
  sold=$(sed -E 's/.*"sold":([0-9]+).*/\1/' <<<"$sales")
  confirmed=$(api 18083 "/v1/events/$event/registrations?status=confirmed&limit=1" | sed -E 's/.*"total":([0-9]+).*/\1/')
  record "$backend" registrations "{\"load\":$load,\"after\":{\"sold\":$sold,\"confirmed\":$confirmed,\"capacity\":$capacity}}"

  echo "==> $backend: orders, 500 concurrent buyers reserving and then paying on one ticket type"
  local order_type paid order_sold
  order_type=$(api 18083 "/v1/events/$event/ticket-types" -d "{\"name\":\"Orders\",\"priceMinor\":2500,\"currency\":\"EUR\",\"capacity\":$capacity}" | sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/')
  cat > "$run/order.lua" <<LUA
$wrk_threads
local headers = {["authorization"] = "Bearer $token", ["x-org"] = "$DEMO_ORG", ["content-type"] = "application/json"}
local reserved = {}
request = function()
  local id = table.remove(reserved)
  if id then
    return wrk.format("POST", "/v1/orders/" .. id .. "/confirm", headers, '{"paymentRef":"' .. key() .. '"}')
  end
  local body = '{"items":[{"ticketTypeId":"$order_type","quantity":1}],"idempotencyKey":"' .. key() .. '"}'
  return wrk.format("POST", "/v1/events/$event/orders", headers, body)
end
response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"data":{"id":"([0-9a-f%-]+)"')
    if id then table.insert(reserved, id) end
  end
end
LUA
  before=$(usage)
  load=$(loaded measure 500 "http://127.0.0.1:18083/v1/events/$event/orders" -s "$run/order.lua")
  profile "$backend" orders "$before" "$load"
  paid=$(api 18083 "/v1/events/$event/orders?status=paid&limit=1" | sed -E 's/.*"total":([0-9]+).*/\1/')
  order_sold=$(api 18083 "/v1/events/$event/ticket-types" | grep -o "\"id\":\"$order_type\"[^}]*" | sed -E 's/.*"sold":([0-9]+).*/\1/')
  record "$backend" orders "{\"load\":$load,\"after\":{\"paid\":$paid,\"sold\":$order_sold,\"capacity\":$capacity,\"seconds\":$duration}}"
  record "$backend" rss_loaded "$(rss_all)"
  stop_all
}

bench_backend sqlite
backends='"sqlite": "SQLite (the embedded default), in-process cache"'
if [[ -n "${BENCH_POSTGRES_URL:-}" && -n "${BENCH_REDIS_URL:-}" ]]; then
  bench_backend postgres
  pg_version=$(psql "$BENCH_POSTGRES_URL" -Atc 'SHOW server_version' 2>/dev/null || echo "?")
  backends="$backends, \"postgres\": \"PostgreSQL $pg_version and Redis\""
else
  echo "==> BENCH_POSTGRES_URL and BENCH_REDIS_URL not set: PostgreSQL + Redis not measured"
fi

took=$(( $(date +%s) - started_at ))
cat > "$run/conditions.json" <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "command": "scripts/bench.sh$([[ $quick == 1 ]] && echo ' --quick')",
  "cores": $(nproc),
  "rustc": "$(rustc --version)",
  "loadGenerator": "wrk $( (wrk -v 2>&1 || true) | head -1 | awk '{print $2}') (2 threads) and tools/bench",
  "secondsPerFigure": $duration,
  "runSeconds": $took,
  "backends": { $backends }
}
JSON
# The run's raw figures stay beside the report, so that it can be written
# again after the analysis changes:
#   target/release/marquee-bench report bench/figures.jsonl bench/conditions.json bench/ANALYSIS.md bench
mkdir -p bench
cp "$figures" bench/figures.jsonl
cp "$run/conditions.json" bench/conditions.json
$bench report bench/figures.jsonl bench/conditions.json bench/ANALYSIS.md bench
echo "==> wrote bench/REPORT.md and bench/report.json (measuring took ${took} s, the build excluded)"
