#!/usr/bin/env bash
# Measures the hot paths on loopback and writes bench/REPORT.md and
# bench/report.json. Every figure stands beside a floor measured in the same
# run, since absolute numbers drift on shared machines. Not part of the tests.
#
#   scripts/bench.sh           about 10 s a figure
#   scripts/bench.sh --quick   about 3 s a figure
#
# Needs wrk (Debian's package; installed here when missing and run as root).
# Runs the release binaries on the embedded defaults (SQLite, in-process cache)
# on ports 1808x; rate limits are lifted for the run, as load is the point.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
duration=$([[ $quick == 1 ]] && echo 3 || echo 10)

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]]; then apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; fi
  command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
fi

echo "==> release build"
cargo build --release --locked -q -p marquee-auth -p marquee-platform-core -p marquee-base -p marquee-financial \
  -p marquee-demo -p marquee-bench

run=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop EXIT

export INTERNAL_SERVICE_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export MARQUEE_ADMIN_EMAIL=admin@bench.local MARQUEE_ADMIN_PASSWORD="bench admin password"
export DEMO_PASSWORD="bench demo password"
export LOG_LEVEL=warn LOG_FORMAT=json
export AUTH_JWKS_URL=http://127.0.0.1:18081/.well-known/jwks.json AUTH_GRPC_URL=http://127.0.0.1:19081
export PLATFORM_CORE_GRPC_URL=http://127.0.0.1:19082 FINANCIAL_GRPC_URL=http://127.0.0.1:19084
export RATE_LIMIT_PER_USER=1000000000 RATE_LIMIT_PER_COMPANY=1000000000
export AUTH_RATE_LIMIT_PER_IP=1000000000 AUTH_RATE_LIMIT_PER_ACCOUNT=1000000000

declare -A pid_of
start() { # NAME HTTP GRPC [ENV=VALUE…]
  local name=$1 http=$2 grpc=$3; shift 3
  env DATABASE_URL="sqlite://$run/$name.db?mode=rwc" HTTP_ADDR="127.0.0.1:$http" GRPC_ADDR="127.0.0.1:$grpc" "$@" \
    "./target/release/marquee-$name" > "$run/$name.log" 2>&1 &
  pids+=("$!"); pid_of[$name]=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && return; sleep 0.05; done
  echo "$name did not start:"; cat "$run/$name.log"; exit 1
}
start platform-core 18082 19082
start auth 18081 19081 SIGNING_KEY_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" MAIL_DIR="$run/mail"
start financial 18084 19084
start base 18083 19083 MEDIA_DIR="$run/media"
for _ in $(seq 1 200); do curl -sf http://127.0.0.1:18083/readyz >/dev/null && break; sleep 0.05; done

rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/${pid_of[$1]}/status"; }
declare -A idle
for s in auth platform-core base financial; do idle[$s]=$(rss "$s"); done

echo "==> seeding"
AUTH_URL=http://127.0.0.1:18081 PLATFORM_CORE_URL=http://127.0.0.1:18082 BASE_URL=http://127.0.0.1:18083 \
  ./target/release/marquee-demo > "$run/demo.env"
# shellcheck disable=SC1091
source "$run/demo.env"
token() {
  curl -s http://127.0.0.1:18081/v1/auth/login -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$DEMO_PASSWORD\"}" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/'
}
TOKEN=$(token "$DEMO_OWNER")
for i in $(seq 1 48); do
  curl -s -o /dev/null http://127.0.0.1:18083/v1/artists -H "authorization: Bearer $TOKEN" -H "x-org: $DEMO_ORG" \
    -H 'content-type: application/json' -d "{\"name\":\"Bench act $i\"}"
done

# wrk's summary as "req/s p50_ms p99_ms non2xx".
measure() { # CONNECTIONS URL [wrk args…]
  local c=$1 url=$2; shift 2
  local out
  out=$(wrk -t2 -c"$c" -d"${duration}s" --latency "$@" "$url")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${errors:-0}"
}
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

echo "==> guarded list against the unguarded floor (64 connections)"
./target/release/marquee-bench floor-list "sqlite://$run/base.db?mode=rwc" "$DEMO_ORG" 127.0.0.1:18090 &
pids+=("$!")
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/v1/artists >/dev/null && break; sleep 0.05; done
read -r floor_rps floor_p50 floor_p99 _ < <(measure 64 http://127.0.0.1:18090/v1/artists)
curl -s -o /dev/null http://127.0.0.1:18083/v1/artists -H "authorization: Bearer $TOKEN" -H "x-org: $DEMO_ORG"
read -r list_rps list_p50 list_p99 list_errors < <(measure 64 http://127.0.0.1:18083/v1/artists \
  -H "authorization: Bearer $TOKEN" -H "x-org: $DEMO_ORG")
declare -A loaded
for s in auth platform-core base financial; do loaded[$s]=$(rss "$s"); done

echo "==> login against raw argon2id at the same parameters (2 threads)"
argon2_rate=$(./target/release/marquee-bench argon2 "$duration" 2 19456 2)
cat > "$run/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"email":"$DEMO_MEMBER","password":"$DEMO_PASSWORD"}'
LUA
read -r login_rps login_p50 login_p99 login_errors < <(measure 4 http://127.0.0.1:18081/v1/auth/login -s "$run/login.lua")

echo "==> ticket registrations, 500 concurrent buyers on one ticket type"
api() { curl -s "http://127.0.0.1:18083$1" -H "authorization: Bearer $TOKEN" -H "x-org: $DEMO_ORG" -H 'content-type: application/json' "${@:2}"; }
venue=$(api "/v1/venues?limit=1" | sed -E 's/.*"data":\[\{"id":"([^"]+)".*/\1/')
made=$(api /v1/events -d "{\"name\":\"Bench night\",\"venueId\":\"$venue\",\"startsAt\":\"2031-06-01T20:00:00Z\",\"endsAt\":\"2031-06-01T23:00:00Z\"}")
event=$(sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/' <<<"$made")
[[ "$event" =~ ^[0-9a-f-]{36}$ ]] || { echo "could not create the bench event: $made" >&2; exit 1; }
api "/v1/events/$event/announce" -d '{}' >/dev/null
api "/v1/events/$event/start-sales" -d '{}' >/dev/null
capacity=$([[ $quick == 1 ]] && echo 3000 || echo 10000)
ticket=$(api "/v1/events/$event/ticket-types" -d "{\"name\":\"GA\",\"priceMinor\":2500,\"currency\":\"EUR\",\"capacity\":$capacity}" | sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/')
cat > "$run/register.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  local body = '{"ticketTypeId":"$ticket","attendeeName":"Buyer","attendeeEmail":"buyer@example.com","quantity":1,"idempotencyKey":"' .. tostring(math.random(1, 1000000000)) .. '-' .. n .. '"}'
  return wrk.format("POST", "/v1/events/$event/registrations", {["authorization"] = "Bearer $TOKEN", ["x-org"] = "$DEMO_ORG", ["content-type"] = "application/json"}, body)
end
LUA
ulimit -n 4096 2>/dev/null || true
read -r reg_rps reg_p50 reg_p99 reg_errors < <(measure 500 "http://127.0.0.1:18083/v1/events/$event/registrations" -s "$run/register.lua")
sales=$(api "/v1/events/$event/sales")
sold=$(sed -E 's/.*"sold":([0-9]+).*/\1/' <<<"$sales")
confirmed=$(api "/v1/events/$event/registrations?status=confirmed&limit=1" | sed -E 's/.*"total":([0-9]+).*/\1/')
oversold=$(( sold > capacity || confirmed != sold ? 1 : 0 ))

# The report.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
meets() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { if ((dir == ">=" && v + 0 >= t + 0) || (dir == "<=" && v + 0 <= t + 0)) print "met"; else print "missed" }'; }
list_ratio=$(ratio "$list_rps" "$floor_rps")
list_p99_ratio=$(ratio "$list_p99" "$floor_p99")
login_ratio=$(ratio "$login_rps" "$argon2_rate")
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cores=$(nproc)
rustc=$(rustc --version)
wrk_version=$( (wrk -v 2>&1 || true) | head -1 | awk '{print $2}')
mkdir -p bench
cat > bench/report.json <<JSON
{
  "date": "$date",
  "conditions": {"cores": $cores, "database": "SQLite (embedded default), in-process cache", "durationSecs": $duration, "loadGenerator": "wrk $wrk_version, 2 threads, on the same machine", "rustc": "$rustc", "build": "release (thin LTO)"},
  "guardedList": {"connections": 64, "reqPerSec": $list_rps, "p50Ms": $list_p50, "p99Ms": $list_p99, "non2xx": $list_errors,
                  "floor": {"what": "the same list, query and pool with no guard", "reqPerSec": $floor_rps, "p50Ms": $floor_p50, "p99Ms": $floor_p99},
                  "throughputRatio": $list_ratio, "p99Ratio": $list_p99_ratio, "target": "throughput >= 0.9 x floor, p99 <= 1.2 x floor"},
  "login": {"connections": 4, "reqPerSec": $login_rps, "p50Ms": $login_p50, "p99Ms": $login_p99, "non2xx": $login_errors,
            "floor": {"what": "raw argon2id hashes/s at 19456 KiB, 2 passes, on 2 threads", "hashesPerSec": $argon2_rate},
            "ratio": $login_ratio, "target": ">= 0.9 x floor"},
  "registrations": {"connections": 500, "reqPerSec": $reg_rps, "p50Ms": $reg_p50, "p99Ms": $reg_p99, "non2xx": $reg_errors,
                    "capacity": $capacity, "sold": $sold, "confirmed": $confirmed, "oversold": $([[ $oversold == 0 ]] && echo false || echo true), "target": ">= 2000/s, zero oversell"},
  "memoryMb": {"idle": {"auth": ${idle[auth]}, "platformCore": ${idle[platform-core]}, "base": ${idle[base]}, "financial": ${idle[financial]}},
               "afterLoad": {"auth": ${loaded[auth]}, "platformCore": ${loaded[platform-core]}, "base": ${loaded[base]}, "financial": ${loaded[financial]}},
               "target": "<= 30 idle, <= 100 under load"}
}
JSON
cat > bench/REPORT.md <<MD
# Marquee benchmarks

Run $date by \`scripts/bench.sh$([[ $quick == 1 ]] && echo " --quick")\`: $cores cores, release build, SQLite
(the embedded default) with the in-process cache, wrk $wrk_version (2 threads) on the same machine,
${duration} s a figure. Every figure stands beside a floor measured in the same run.

| figure | measured | floor (same run) | ratio | target | |
|---|---|---|---|---|---|
| base guarded list, warm cache, 64 connections | $list_rps req/s, p50 $list_p50 ms, p99 $list_p99 ms | unguarded list: $floor_rps req/s, p99 $floor_p99 ms | $list_ratio × throughput, $list_p99_ratio × p99 | ≥ 0.9 × throughput, ≤ 1.2 × p99 | $(meets "$list_ratio" 0.9 ">=") / $(meets "$list_p99_ratio" 1.2 "<=") |
| login, 4 connections | $login_rps req/s, p99 $login_p99 ms | argon2id: $argon2_rate hashes/s | $login_ratio | ≥ 0.9 × | $(meets "$login_ratio" 0.9 ">=") |
| ticket registrations, 500 buyers, one type | $reg_rps req/s, p99 $reg_p99 ms; sold $sold of $capacity, confirmed $confirmed | — | — | ≥ 2,000/s, no oversell | $(meets "$reg_rps" 2000 ">=")$([[ $oversold == 0 ]] && echo ", no oversell" || echo ", OVERSOLD") |
| resident memory, idle (MB) | auth ${idle[auth]}, platform-core ${idle[platform-core]}, base ${idle[base]}, financial ${idle[financial]} | — | — | ≤ 30 | |
| resident memory after the list load (MB) | auth ${loaded[auth]}, platform-core ${loaded[platform-core]}, base ${loaded[base]}, financial ${loaded[financial]} | — | — | ≤ 100 | |

Registrations that did not confirm once the type sold out are answered waitlisted (2xx) or 409; wrk
counts the non-2xx as $reg_errors. Not measured by this script yet: the cold path (cache miss →
auth → platform-core), \`ResolveAccess\` over gRPC against a tonic echo, refresh, ledger entries on
PostgreSQL, revocation to first refusal, and every figure on PostgreSQL + Redis.
MD
echo "==> bench/REPORT.md"
cat bench/REPORT.md
