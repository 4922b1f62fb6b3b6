#!/usr/bin/env bash
# Schemathesis against a live server on PostgreSQL + Redis: every operation of /api/schema/, once
# per persona (an agency key for each scope the apps registered, a merchant's key, a staff login),
# checking that no answer is a server error, breaks the schema, has an undocumented status or an
# undocumented content type. Bounded (examples per operation, a fixed seed) to take a few minutes on
# 2 cores. Exits non-zero on any failure. Called by .ci/run after the PostgreSQL + Redis suite.
#
# The server is production-like: DEBUG off, keys in the environment, gunicorn. Only the rate limits
# are raised (so that the run reaches the views instead of 429) and HTTPS is not forced (no proxy).
#
# Environment: SCHEMATHESIS_DATABASE_URL (dropped and made anew), SCHEMATHESIS_REDIS_URL,
# SCHEMATHESIS_MAX_EXAMPLES (default 20), SCHEMATHESIS_SEED (default 1), SCHEMATHESIS_PORT.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(cd "${BIN:-.venv/bin}" && pwd)  # absolute: schemathesis runs from a scratch folder
DB_URL=${SCHEMATHESIS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/unionportal_schemathesis}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-20}
SEED=${SCHEMATHESIS_SEED:-1}
PORT=${SCHEMATHESIS_PORT:-$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
WORK=$(mktemp -d)
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export DEBUG=0 DATABASE_URL=$DB_URL REDIS_URL=${SCHEMATHESIS_REDIS_URL:-redis://127.0.0.1:6379/14}
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false API_RATE_PER_KEY=100000/min API_RATE_VERIFY=100000/min
# Schemathesis sends wrong keys on purpose (its auth checks), all from 127.0.0.1.
export API_AUTH_FAILURES_PER_IP=100000/min
SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
PII_ENCRYPTION_KEYS=$("$BIN/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
PII_INDEX_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
export SECRET_KEY PII_ENCRYPTION_KEYS PII_INDEX_KEY

echo "schemathesis: a fresh database ${DB_URL##*/}, migrated and seeded"
psql -q "${DB_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS \"${DB_URL##*/}\" WITH (FORCE)" -c "CREATE DATABASE \"${DB_URL##*/}\""
redis-cli -u "$REDIS_URL" flushdb >/dev/null
"$BIN/python" manage.py migrate --noinput -v0
# The demo data is made with DEBUG on: seed_demo refuses to run in production (known passwords).
DEBUG=1 "$BIN/python" manage.py seed_demo --members 300 --no-progress -v0
"$BIN/python" tests/schemathesis/personas.py >"$WORK/personas.tsv" 2>"$WORK/personas.log" || {
  cat "$WORK/personas.log"
  exit 1
}

echo "schemathesis: gunicorn on 127.0.0.1:$PORT"
"$BIN/gunicorn" --bind "127.0.0.1:$PORT" --workers 2 --timeout 60 unionportal.wsgi >"$WORK/server.log" 2>&1 &
server_pid=$!
"$BIN/python" - "$PORT" <<'PY'
import sys, time, urllib.request

for _ in range(120):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2)
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit("schemathesis: the server did not start")
PY

failed=()
while IFS=$'\t' read -r -a fields; do
  persona=${fields[0]}
  headers=()
  for header in "${fields[@]:1}"; do headers+=(--header "$header"); done
  printf '\n---- schemathesis as %s ----\n' "$persona"
  # From the scratch folder: schemathesis keeps its cache (.schemathesis/) in the working directory.
  if ! (cd "$WORK" && "$BIN/schemathesis" run "http://127.0.0.1:$PORT/api/schema/?format=json" "${headers[@]}" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --request-timeout 30 --no-color); then
    failed+=("$persona")
  fi
done <"$WORK/personas.tsv"

personas=$(wc -l <"$WORK/personas.tsv")
if [ ${#failed[@]} -gt 0 ]; then
  printf '\n---- the server'"'"'s log (last 200 lines) ----\n'
  tail -n 200 "$WORK/server.log"
  echo "schemathesis: FAILED for ${#failed[@]} of $personas personas: ${failed[*]}"
  exit 1
fi
echo "schemathesis: no failure for any of the $personas personas"
