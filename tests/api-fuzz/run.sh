#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the JSON API with schemathesis (pinned in requirements.txt).
#
# Starts target/debug/smedx serve on a free port with a temporary data directory, signs up an
# account and gets an API token (prepare.py), runs `schemathesis run` against
# /api/v1/openapi.json with the bearer token, then stops the server. Fails when schemathesis
# finds a failure, or when the server log shows a panic or an internal error.
#
#   tests/api-fuzz/run.sh                       # quick (CI): 20 examples per operation, seed 1
#   SMEDX_FUZZ_LONG=1 tests/api-fuzz/run.sh     # long: random seed, 500 examples, up to 20 min
#
# Environment (all optional):
#   SMEDX_FUZZ_MAX_EXAMPLES  examples per operation (default 20; 500 when SMEDX_FUZZ_LONG=1)
#   SMEDX_FUZZ_MAX_TIME      seconds for the long run (default 1200)
#   SMEDX_FUZZ_SEED          a number, or "random" (default 1; random when SMEDX_FUZZ_LONG=1)
#   SMEDX_FUZZ_CHECKS        schemathesis checks (default not_a_server_error,response_schema_conformance;
#                            "all" for every check, e.g. status codes and content types)
#   SMEDX_FUZZ_WORKERS       parallel workers (default 1: with Python 3.11 more than one worker can hit
#                            CPython's "AST constructor recursion depth mismatch" in hypothesis)
#   SMEDX_FUZZ_REPORT_DIR    where the JUnit report goes (default tests/api-fuzz/reports)
#   SMEDX_FUZZ_NO_BUILD=1    do not run `cargo build --bin smedx` first
#   SMEDX_FUZZ_DATABASE      a postgres:// URL to fuzz the PostgreSQL backend (an empty database)
#   SMEDX_FUZZ_EXTRA         more arguments for `schemathesis run`
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

long="${SMEDX_FUZZ_LONG:-0}"
if [ "$long" = "1" ]; then
  max_examples="${SMEDX_FUZZ_MAX_EXAMPLES:-500}"
  seed="${SMEDX_FUZZ_SEED:-random}"
else
  max_examples="${SMEDX_FUZZ_MAX_EXAMPLES:-20}"
  seed="${SMEDX_FUZZ_SEED:-1}"
fi
checks="${SMEDX_FUZZ_CHECKS:-not_a_server_error,response_schema_conformance}"
workers="${SMEDX_FUZZ_WORKERS:-1}"
report_dir="${SMEDX_FUZZ_REPORT_DIR:-$here/reports}"

# 1. The fuzzer, in a virtual environment of its own (reinstalled when requirements.txt changes).
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "api-fuzz: installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

# 2. The server.
if [ "${SMEDX_FUZZ_NO_BUILD:-0}" != "1" ]; then
  cargo build --quiet --bin smedx
fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
db_args=()
if [ -n "${SMEDX_FUZZ_DATABASE:-}" ]; then db_args=(--database "$SMEDX_FUZZ_DATABASE"); fi
SMEDX_LOG="${SMEDX_LOG:-info}" target/debug/smedx serve --listen "127.0.0.1:$port" \
  --data-dir "$work/data" "${db_args[@]}" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  if curl -fsS "$base/api/v1/openapi.json" > /dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "api-fuzz: the server did not start"; cat "$work/server.log"; exit 1
  fi
  sleep 0.2
done

# 3. Account, token, records to fuzz, schemathesis.toml.
token="$("$venv/bin/python" "$here/prepare.py" "$base" "$work/schemathesis.toml")"

# 4. Fuzz. Run from the work folder so schemathesis's caches stay out of the tree.
args=(
  --config-file "$work/schemathesis.toml"
  run "$base/api/v1/openapi.json"
  --header "Authorization: Bearer $token"
  --checks "$checks"
  --max-examples "$max_examples"
  --workers "$workers"
  --request-timeout 30
  --generation-database none
  --report junit --report-dir "$report_dir"
  --no-color
)
if [ "$seed" != "random" ]; then args+=(--seed "$seed"); fi
if [ "$long" = "1" ]; then args+=(--max-time "${SMEDX_FUZZ_MAX_TIME:-1200}"); fi
# shellcheck disable=SC2206
if [ -n "${SMEDX_FUZZ_EXTRA:-}" ]; then args+=($SMEDX_FUZZ_EXTRA); fi
mkdir -p "$report_dir"
set +e
(cd "$work" && "$venv/bin/schemathesis" "${args[@]}")
status=$?
set -e

# 5. The server's side: a panic drops the connection, an internal error is a 5xx.
problems="$(grep -E 'panicked|internal error|api store error' "$work/server.log" || true)"
if [ -n "$problems" ]; then
  echo "api-fuzz: the server log shows failures:"
  echo "$problems" | head -40
  [ "$status" -ne 0 ] || status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 30 lines) ---"; tail -30 "$work/server.log"
  echo "api-fuzz: FAILED (checks: $checks, examples: $max_examples, seed: $seed)"
else
  echo "api-fuzz: passed (checks: $checks, examples: $max_examples, seed: $seed)"
fi
exit "$status"
