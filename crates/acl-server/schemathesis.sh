#!/usr/bin/env bash
# API fuzzing (issue 17): schemathesis (PyPI), in a venv this script creates, against the
# OpenAPI document of a real `acl serve` on loopback, with a valid admin token. It checks
# that no response is a server error and that every response conforms to the document
# (status code, content type, body schema).
#   bash crates/acl-server/schemathesis.sh [MAX_EXAMPLES]     (default 50 per operation)
# Needs `cargo build --release -p acl-cli` first (or ACL_BIN=path/to/acl).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
acl="${ACL_BIN:-${CARGO_TARGET_DIR:-$here/../../target}/release/acl}"
examples="${1:-50}"
venv="${SCHEMATHESIS_VENV:-$here/../../target/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis>=4,<5"
fi
dir="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
export ACL_JWT_SECRET="schemathesis-secret-schemathesis-secret-0123"
db="$dir/acl.db"
"$acl" --db "$db" init --cluster prod >/dev/null
"$acl" --db "$db" user create --email bob@example.com --username bob --password 'Bob-pass-1!' >/dev/null
"$acl" --db "$db" serve --listen 127.0.0.1:0 --log-level warn --max-wait 500ms 2>"$dir/serve.log" &
server=$!
for _ in $(seq 100); do
  addr="$(sed -n 's/^listening on http:\/\///p' "$dir/serve.log" | head -1)"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start" >&2; cat "$dir/serve.log" >&2; exit 1; }
token="$("$acl" --db "$db" token admin --ttl 1h)"
# The watch is a stream that does not end; it is tested end to end in tests/http.rs.
"$venv/bin/schemathesis" run "http://$addr/openapi.json" \
  --url "http://$addr" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /v1/changes/watch \
  --max-examples "$examples" \
  --suppress-health-check=filter_too_much \
  --request-timeout 15
