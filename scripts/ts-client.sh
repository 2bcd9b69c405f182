#!/usr/bin/env bash
# Proves the committed OpenAPI documents make a typed TypeScript client: installs
# the pinned tools (clients/typescript/package-lock.json), generates the types
# from openapi/*.json, compiles the client strictly and runs the demo story
# against a running fleet.
#
#   MARQUEE_AUTH_URL=http://127.0.0.1:8081 MARQUEE_PLATFORM_URL=http://127.0.0.1:8082 \
#   MARQUEE_BASE_URL=http://127.0.0.1:8083 MARQUEE_FINANCIAL_URL=http://127.0.0.1:8084 \
#     scripts/ts-client.sh
#
# Needs Node.js 20 or later with npm. MARQUEE_ADMIN_EMAIL and MARQUEE_ADMIN_PASSWORD,
# when set, add the platform operator's step.
set -euo pipefail
cd "$(dirname "$0")/.."

for var in MARQUEE_AUTH_URL MARQUEE_PLATFORM_URL MARQUEE_BASE_URL MARQUEE_FINANCIAL_URL; do
  if [[ -z "${!var:-}" ]]; then
    echo "ts-client: $var is not set (the base URL of a running service)" >&2
    exit 2
  fi
done

cd clients/typescript
npm ci --no-audit --no-fund
npm run generate
npm run build
node dist/story.js
