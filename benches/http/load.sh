#!/usr/bin/env bash
# The service's load test (DESIGN section 9, issue 17): `acl serve` on a fresh SQLite file
# on loopback, driven by wrk (Debian's `wrk` package) on the same machine.
#   bash benches/http/load.sh [DURATION]        (default 10s per run)
# Needs `cargo build --release -p acl-cli` first. Prints wrk's reports; the figures are
# recorded in docs/benchmarks.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
acl="${ACL_BIN:-${CARGO_TARGET_DIR:-$here/../../target}/release/acl}"
duration="${1:-10s}"
dir="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
export ACL_JWT_SECRET="load-test-secret-load-test-secret-0123456789"
db="$dir/acl.db"
"$acl" --db "$db" init --cluster prod >/dev/null
for u in alice bob carol; do
  "$acl" --db "$db" user create --email "$u@example.com" --username "$u" --password 'Load-pass-1!' >/dev/null
done
"$acl" --db "$db" --as alice grant storage:data/train bob read >/dev/null
"$acl" --db "$db" serve --listen 127.0.0.1:0 --log-level warn --max-connections 4096 2>"$dir/serve.log" &
server=$!
for _ in $(seq 100); do
  addr="$(sed -n 's/^listening on http:\/\///p' "$dir/serve.log" | head -1)"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start" >&2; cat "$dir/serve.log" >&2; exit 1; }
export TOKEN="$("$acl" --db "$db" token admin --ttl 1h)"
echo "== single checks, 64 connections, 2 threads, $duration"
wrk -t2 -c64 -d"$duration" --latency -s "$here/check.lua" "http://$addr"
echo "== batches of 1,000 checks, 8 connections, 2 threads, $duration"
wrk -t2 -c8 -d"$duration" --latency -s "$here/batch.lua" "http://$addr"
echo "== durable grants (SQLite, synchronous=FULL), 32 connections, 2 threads, $duration"
TOKEN="$("$acl" --db "$db" token alice --ttl 1h)" wrk -t2 -c32 -d"$duration" --latency -s "$here/grant.lua" "http://$addr"
kill -TERM "$server"
wait "$server"
