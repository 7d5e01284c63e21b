#!/usr/bin/env bash
# Requests/s of GET /api/users/me authenticated by an API key, measured with wrk on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
port=2298 db=darkroom_bench_rps media=$(mktemp -d)
export PGPASSWORD=postgres
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
DB_HOSTNAME=127.0.0.1 REDIS_HOSTNAME=127.0.0.1 DARKROOM_REDIS_PREFIX=$db DB_DATABASE_NAME=$db IMMICH_MEDIA_LOCATION=$media IMMICH_PORT=$port IMMICH_HOST=127.0.0.1 \
  IMMICH_LOG_LEVEL=warn ./target/release/darkroom-server serve & pid=$!
trap 'kill $pid; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$media"' EXIT
until curl -sf "http://127.0.0.1:$port/api/server/ping" >/dev/null; do sleep 0.05; done
base="http://127.0.0.1:$port/api"
curl -sf -H 'content-type: application/json' -d '{"email":"admin@example.com","password":"password","name":"Admin"}' "$base/auth/admin-sign-up" >/dev/null
token=$(curl -sf -H 'content-type: application/json' -d '{"email":"admin@example.com","password":"password"}' "$base/auth/login" | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
key=$(curl -sf -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"permissions":["all"]}' "$base/api-keys" | sed 's/.*"secret":"\([^"]*\)".*/\1/')
wrk -t2 -c32 -d10s -H "x-api-key: $key" "$base/users/me"
