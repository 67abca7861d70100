#!/usr/bin/env bash
# HTTP load benchmark of `smedx serve` with wrk, end to end:
#
#   bench/http.sh                                # 20 s per run, 50 and 500 connections, SQLite
#   SMEDX_BENCH_DURATION=10s bench/http.sh       # shorter runs
#
# Builds the release binary (a no-op when up to date), starts the server on a free loopback port
# with a temporary data directory, signs up one enterprise through the normal HTML form (CSRF
# token parsed from the form, session cookie in a jar), takes an API token, seeds draft
# assessments through the JSON API, runs wrk for every scenario and connection count, checks the
# database afterwards, prints a Markdown table, stops the server and deletes everything.
#
# Scenarios (bench/wrk/*.lua):
#   result page      GET  /assessments/{id}                 HTML result of a completed assessment
#   wizard submit    POST /assessments/{id}/step/6          the wizard's last step: saves it, runs
#                                                           the engine, stores the result (303)
#   API complete     POST /api/v1/assessments/{id}/complete same work through the JSON API (200)
#   API assess       POST /api/v1/assess                    stateless full report, no database
# The two completing scenarios are one-shot per assessment: before each run the script seeds
# enough drafts (create + PUT profile + PUT answers, i.e. every earlier step saved) and wrk walks
# the id list so that no id is sent twice.
#
# Environment:
#   SMEDX_BENCH_DURATION     wrk -d per run (default 20s)
#   SMEDX_BENCH_CONNECTIONS  connection counts (default "50 500")
#   SMEDX_BENCH_THREADS      wrk -t (default: nproc)
#   SMEDX_BENCH_TIMEOUT      wrk --timeout; a slower response counts as a timeout error (default 10s)
#   SMEDX_BENCH_SCENARIOS    subset, e.g. "result wizard api_complete api_assess" (default: all)
#   SMEDX_BENCH_DATABASES    "sqlite", "postgres" or "sqlite postgres" (default "sqlite").
#                            postgres starts a private PostgreSQL cluster (initdb + pg_ctl) in the
#                            temporary directory on its own port and drops it afterwards.
#   SMEDX_BENCH_DRAFT_RATE   drafts seeded per second of run time for the one-shot scenarios
#                            (default 1600; a run that uses them all is repeated with more)
#   SMEDX_BENCH_BUSY_LIMIT   other processes on the machine may use this much CPU (% of one
#                            core, default 20). Before each run the script waits (at most
#                            SMEDX_BENCH_IDLE_WAIT seconds, default 300) until they use less;
#                            a run during which they used more is repeated (up to 3 runs in
#                            all) and, if still disturbed, marked DISTURBED in the notes.
#   SMEDX_BENCH_NO_BUILD=1   skip `cargo build --release`
#   SMEDX_BENCH_BIN=PATH     benchmark this smedx binary instead (implies no build), e.g. one
#                            built from a clean `git archive` of a commit
#   SMEDX_BENCH_KEEP=1       keep the temporary directory (server logs, raw wrk output)
#
# Errors column = socket errors (connect, read, write, timeout) + responses whose status is not
# the one the scenario expects (wrk alone would count a 303-to-login as success).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
duration=${SMEDX_BENCH_DURATION:-20s}
conns_list=${SMEDX_BENCH_CONNECTIONS:-"50 500"}
threads=${SMEDX_BENCH_THREADS:-$(nproc)}
timeout=${SMEDX_BENCH_TIMEOUT:-10s}
scenarios=${SMEDX_BENCH_SCENARIOS:-"result wizard api_complete api_assess"}
databases=${SMEDX_BENCH_DATABASES:-sqlite}
draft_rate=${SMEDX_BENCH_DRAFT_RATE:-1600}
busy_limit=${SMEDX_BENCH_BUSY_LIMIT:-20}
idle_wait=${SMEDX_BENCH_IDLE_WAIT:-300}

die() { echo "http.sh: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || die "$tool is required (Debian: apt-get install -y wrk curl python3)"
done

secs=$(python3 -c "
import re,sys
m=re.fullmatch(r'(\d+)([smh]?)', sys.argv[1]) or sys.exit('bad SMEDX_BENCH_DURATION: '+sys.argv[1])
print(int(m[1])*{'':1,'s':1,'m':60,'h':3600}[m[2]])" "$duration")

# Every connection is a file descriptor in wrk and in the server (both run under this shell).
max_conns=$(printf '%s\n' $conns_list | sort -n | tail -1)
want_fds=$((max_conns * 2 + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" ||
    die "cannot raise the open-files limit to $want_fds (ulimit -Hn is $(ulimit -Hn))"
fi
log "open-files limit: $(ulimit -n)"

if [ -n "${SMEDX_BENCH_BIN:-}" ]; then
  bin=$SMEDX_BENCH_BIN
else
  if [ "${SMEDX_BENCH_NO_BUILD:-}" != 1 ]; then
    log "cargo build --release"
    (cd "$root" && cargo build --release --quiet) || die "the release build failed"
  fi
  bin="$root/target/release/smedx"
fi
[ -x "$bin" ] || die "$bin is missing"

tmp=$(mktemp -d /tmp/smedx-bench.XXXXXX)
server_pid=""
pg_data=""
cleanup() {
  stop_server || true
  stop_postgres || true
  if [ "${SMEDX_BENCH_KEEP:-}" = 1 ]; then
    log "kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a private cluster, never a shared server
# ---------------------------------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

as_pg() {
  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local b
  for b in "$(command -v "$1" 2>/dev/null)" /usr/lib/postgresql/*/bin/"$1"; do
    [ -x "$b" ] && { echo "$b"; return 0; }
  done
  return 1
}

pg_port=""
start_postgres() {
  local initdb pg_ctl
  initdb=$(pg_bin initdb) || die "postgres: initdb not found"
  pg_ctl=$(pg_bin pg_ctl) || die "postgres: pg_ctl not found"
  pg_data="$tmp/pg"
  mkdir -p "$pg_data"
  [ "$(id -u)" = 0 ] && chown postgres "$tmp" "$pg_data"
  chmod 700 "$pg_data"
  pg_port=$(free_port)
  as_pg "$initdb" -D "$pg_data" -U bench --auth=trust -E UTF8 --no-locale >"$tmp/pg-initdb.log" 2>&1 ||
    die "initdb failed: $(tail -3 "$tmp/pg-initdb.log")"
  as_pg "$pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -o \
    "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1" start >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$pg_data/server.log")"
  psql_q postgres "CREATE DATABASE smedx" >/dev/null
  log "PostgreSQL $(psql_q smedx 'SHOW server_version') on 127.0.0.1:$pg_port (private cluster in $pg_data)"
}

stop_postgres() {
  [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ] || return 0
  as_pg "$(pg_bin pg_ctl)" -D "$pg_data" -m fast -w stop >/dev/null 2>&1
}

psql_q() { psql -h 127.0.0.1 -p "$pg_port" -U bench -d "$1" -tAqc "$2"; }

# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

base=""
start_server() { # $1 = sqlite | postgres
  local db_args=() data="$tmp/data-$1"
  mkdir -p "$data"
  [ "$1" = postgres ] && db_args=(--database "postgres://bench@127.0.0.1:$pg_port/smedx")
  server_log="$tmp/server-$1.log"
  "$bin" --lang en serve --listen 127.0.0.1:0 --data-dir "$data" "${db_args[@]}" >"$server_log" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 1 300); do
    base=$(grep -o 'running at http://127\.0\.0\.1:[0-9]*' "$server_log" 2>/dev/null | sed 's/running at //' || true)
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(tail -5 "$server_log")"
    sleep 0.1
  done
  [ -n "$base" ] || die "the server did not start within 30 s: $(tail -5 "$server_log")"
  log "server pid $server_pid at $base ($1)"
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -INT "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU jiffies of the PostgreSQL cluster: "pid:ticks" of the postmaster and its children.
pg_ticks() {
  [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ] || return 0
  local pm p
  pm=$(head -1 "$pg_data/postmaster.pid")
  for p in $pm $(ps -o pid= --ppid "$pm"); do
    [ -r "/proc/$p/stat" ] && awk -v p="$p" '{printf "%s:%d ", p, $14 + $15}' "/proc/$p/stat"
  done
  return 0
}
# Busy and total jiffies of the whole machine (all cores), from the first line of /proc/stat.
machine_ticks() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat; }

completed_count() { # complete assessments in the database
  case "$db" in
  sqlite) python3 -c "
import sqlite3,sys
c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True)
print(c.execute(\"SELECT count(*) FROM assessments WHERE status='complete'\").fetchone()[0])" "$tmp/data-sqlite/smedx.sqlite" ;;
  postgres) psql_q smedx "SELECT count(*) FROM assessments WHERE status='complete'" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Account, session, token, one completed assessment
# ---------------------------------------------------------------------------------------------

email="bench@example.com"
password="bench-password-$RANDOM$RANDOM"

form_csrf() { grep -o 'name="csrf" value="[0-9a-f]*"' "$1" | head -1 | sed 's/.*value="//; s/"$//'; }

seed_account() {
  local jar="$tmp/cookies-$db" page="$tmp/page.html" code
  curl -sS -c "$jar" -b "$jar" -o "$page" "$base/signup"
  local csrf
  csrf=$(form_csrf "$page")
  [ -n "$csrf" ] || die "no CSRF token in the sign-up form"
  code=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrf=$csrf" --data-urlencode "next=/assess" \
    --data-urlencode "enterprise=基准测试精密五金有限公司" --data-urlencode "email=$email" \
    --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$base/signup")
  [ "$code" = 303 ] || die "sign-up answered $code, expected 303"
  session=$(awk '$6 == "smedx_session" {print $7}' "$jar")
  [ -n "$session" ] || die "no session cookie after sign-up"
  # The session's own CSRF token (it replaces the anonymous one) is in every page's forms.
  curl -sS -b "$jar" -o "$page" "$base/assess"
  session_csrf=$(form_csrf "$page")
  [ -n "$session_csrf" ] || die "no CSRF token on /assess"
  token=$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"bench\"}" "$base/api/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || die "no API token"

  python3 "$here/seed.py" "$base" "$token" 1 "$tmp/ids-result" 2>/dev/null || die "seeding failed"
  result_id=$(cat "$tmp/ids-result")
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    "$base/api/v1/assessments/$result_id/complete")
  [ "$code" = 200 ] || die "completing assessment $result_id answered $code"
  code=$(curl -sS -o "$page" -w '%{http_code}' -b "$jar" "$base/assessments/$result_id")
  [ "$code" = 200 ] || die "the result page answered $code"
  log "account $email, assessment $result_id complete, result page $(wc -c <"$page") bytes"
}

# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------

rows="$tmp/rows"
: >"$rows"

label() {
  case "$1" in
  result) echo "result page: GET /assessments/{id}" ;;
  wizard) echo "wizard submit: POST /assessments/{id}/step/6 (completes)" ;;
  api_complete) echo "API complete: POST /api/v1/assessments/{id}/complete" ;;
  api_assess) echo "API assess (stateless): POST /api/v1/assess" ;;
  esac
}

run_wrk() { # $1 scenario, $2 connections, $3 out file; prints the BENCH json; CPU use to $tmp/cpu
  local s=$1 c=$2 out=$3 args=()
  case "$s" in
  result) args=(-s "$here/wrk/result_page.lua" "$base" -- "id=$result_id" "cookie=$session") ;;
  wizard) args=(-s "$here/wrk/wizard_submit.lua" "$base" -- "ids=$tmp/ids" "threads=$threads"
    "cookie=$session" "csrf=$session_csrf" "body=$here/data/step6.form") ;;
  api_complete) args=(-s "$here/wrk/api_complete.lua" "$base" -- "ids=$tmp/ids" "threads=$threads"
    "token=$token") ;;
  api_assess) args=(-s "$here/wrk/api_assess.lua" "$base" -- "body=$here/data/assess.json") ;;
  esac
  local t0 t1 c0 c1 m0 m1 p0 p1 wrk_cpu
  c0=$(cpu_ticks "$server_pid")
  p0=$(pg_ticks)
  m0=$(machine_ticks)
  t0=$(date +%s.%N)
  # wrk under a wrapper that reports the CPU seconds it used (its threads included).
  wrk_cpu=$(python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    r = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)
sys.exit(r.returncode)' "$out" wrk -t "$threads" -c "$c" -d "$duration" --timeout "$timeout" --latency "${args[@]}") ||
    die "wrk failed: $(tail -5 "$out")"
  t1=$(date +%s.%N)
  m1=$(machine_ticks)
  p1=$(pg_ticks)
  c1=$(cpu_ticks "$server_pid")
  kill -0 "$server_pid" 2>/dev/null || die "the server died during $s/$c: $(tail -5 "$server_log")"
  # CPU in % of one core: server / wrk / PostgreSQL / everything else on the machine (other
  # processes: a busy neighbour shows here, and the figures of that run are then disturbed).
  python3 -c "
import os, sys
c0, c1, t0, t1, w, m0b, m0t, m1b, m1t, p0, p1 = sys.argv[1:]
secs = float(t1) - float(t0)
hz = os.sysconf('SC_CLK_TCK')
pct = lambda ticks: ticks / hz / secs * 100
server = pct(int(c1) - int(c0))
wrk = float(w) / secs * 100
machine = (int(m1b) - int(m0b)) / max(1, int(m1t) - int(m0t)) * os.cpu_count() * 100
before = dict(x.split(':') for x in p0.split())
after = dict(x.split(':') for x in p1.split())
pg = pct(sum(int(after[k]) - int(before[k]) for k in after if k in before))
other = max(0.0, machine - server - wrk - pg)
pgs = f'{pg:.0f}%' if before else '-'
print(f'{server:.0f}% / {wrk:.0f}% / {pgs} / {other:.0f}%')
print(f'{other:.0f}')" \
    "$c0" "$c1" "$t0" "$t1" "$wrk_cpu" $m0 $m1 "$p0" "$p1" >"$tmp/cpu"
  grep '^BENCH ' "$out" | sed 's/^BENCH //' || die "no summary from wrk: $(tail -5 "$out")"
}

# CPU used by everything on the machine over $1 seconds, in % of one core.
machine_busy() {
  local a b
  a=$(machine_ticks)
  sleep "$1"
  b=$(machine_ticks)
  python3 -c "
import os, sys
a0, at, b0, bt = map(int, sys.argv[1:])
print(round((b0 - a0) / max(1, bt - at) * os.cpu_count() * 100))" $a $b
}

wait_idle() {
  local waited=0 busy
  while :; do
    busy=$(machine_busy 3)
    [ "$busy" -le "$busy_limit" ] && return 0
    if [ "$waited" -ge "$idle_wait" ]; then
      log "other processes still use $busy% CPU after ${waited}s; measuring anyway"
      return 0
    fi
    [ "$waited" = 0 ] && log "waiting for other processes to go quiet (they use $busy% CPU)"
    sleep 7
    waited=$((waited + 10))
  done
}

one_shot() { [ "$1" = wizard ] || [ "$1" = api_complete ]; }

run_case() { # $1 scenario, $2 connections
  local s=$1 c=$2 out="$tmp/wrk-$db-$1-$2.txt" json attempt rate=$draft_rate before after
  for attempt in 1 2 3; do
    before=""
    local other
    if one_shot "$s"; then
      local n=$((rate * secs + c * 2))
      log "$db/$s/$c: seeding $n drafts"
      python3 "$here/seed.py" "$base" "$token" "$n" "$tmp/ids" --workers 16 || die "seeding failed"
      sleep 2 # let the seeding's writes settle (WAL checkpoint) before measuring
      before=$(completed_count)
    fi
    wait_idle
    log "$db/$s/$c: wrk -t $threads -c $c -d $duration"
    json=$(run_wrk "$s" "$c" "$out")
    other=$(sed -n 2p "$tmp/cpu")
    local exhausted
    exhausted=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["exhausted"])' "$json")
    if [ "$exhausted" -gt 0 ] && [ "$attempt" -lt 3 ]; then
      rate=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["rps"]*1.5)+100)' "$json")
      log "$db/$s/$c: the drafts ran out ($exhausted requests without one); again with $rate per second"
      continue
    fi
    if [ "$other" -gt "$busy_limit" ] && [ "$attempt" -lt 3 ]; then
      log "$db/$s/$c: other processes used $other% CPU during the run; again"
      continue
    fi
    break
  done
  local check="-"
  if [ -n "$before" ]; then
    sleep 1
    after=$(completed_count)
    check=$((after - before))
  fi
  python3 - "$db" "$s" "$c" "$json" "$check" "$(sed -n 1p "$tmp/cpu")" "$(label "$s")" "$(sed -n 2p "$tmp/cpu")" "$busy_limit" >>"$rows" <<'EOF'
import json, sys
db, s, c, j, check, cpu, label, other, busy_limit = sys.argv[1:10]
d = json.loads(j)
sock = d["connect"] + d["read"] + d["write"] + d["timeout"]
errors = sock + d["unexpected"]
ok = d["statuses"].get(str(d["expect"]), 0)
def ms(us): return f"{us/1000:.1f} ms" if us < 100000 else f"{us/1000:.0f} ms"
detail = []
for k in ("connect", "read", "write", "timeout"):
    if d[k]: detail.append(f"{k} {d[k]}")
for k, v in sorted(d["statuses"].items()):
    if k != str(d["expect"]): detail.append(f"HTTP {k} ×{v}")
if d["exhausted"]: detail.append(f"drafts ran out ×{d['exhausted']}")
if int(other) > int(busy_limit): detail.append(f"DISTURBED: other processes used {other}% CPU")
if check != "-":
    # wrk abandons requests still in flight when the time is up; the server may finish them.
    n = int(check)
    mark = "ok" if ok <= n <= ok + int(c) else "MISMATCH"
    detail.append(f"db: {n} completed for {ok} × {d['expect']} ({mark})")
print("\t".join([db, label, c, f"{d['rps']:.0f}", ms(d["p50_us"]), ms(d["p99_us"]),
                 str(errors), cpu, f"{d['requests']} × {d['expect']}" , "; ".join(detail) or "-"]))
EOF
  tail -1 "$rows" | awk -F'\t' '{printf "#   %s c=%s: %s req/s, p50 %s, p99 %s, errors %s\n", $2, $3, $4, $5, $6, $7}' >&2
}

for db in $databases; do
  case "$db" in
  sqlite) ;;
  postgres) start_postgres ;;
  *) die "unknown database '$db' (sqlite or postgres)" ;;
  esac
  start_server "$db"
  seed_account
  for s in $scenarios; do
    case "$s" in result | wizard | api_complete | api_assess) ;; *) die "unknown scenario '$s'" ;; esac
    for c in $conns_list; do
      run_case "$s" "$c"
    done
  done
  stop_server
  problems=$(grep -cE ' (ERROR|WARN) ' "$server_log" || true)
  if [ "$problems" -gt 0 ]; then
    log "server log ($db): $problems ERROR/WARN lines, first ones:"
    grep -E ' (ERROR|WARN) ' "$server_log" | head -5 >&2
  else
    log "server log ($db): no ERROR or WARN lines"
  fi
  echo "$db	$problems" >>"$tmp/log-problems"
  stop_postgres
  pg_data=""
done

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

rev=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(cd "$root" && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo " (uncommitted changes)" || true)
echo
if [ -n "${SMEDX_BENCH_BIN:-}" ]; then
  what="binary $bin (built $(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC'))"
else
  what="smedx $rev$dirty"
fi
echo "$what, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1),"
echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'): -t $threads -d $duration --timeout $timeout --latency; server and wrk on the same machine (loopback)"
echo
echo "| database | scenario | connections | requests/s | p50 | p99 | errors | CPU: server / wrk / PostgreSQL / other | responses | notes |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|---|"
awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$rows"
echo
while IFS=$'\t' read -r d n; do
  echo "Server log ($d): $n ERROR/WARN lines."
done <"$tmp/log-problems"
