#!/bin/sh
# tools/bench-fake.sh: requests/second of the fake Admin API (bin/openai-admin-fake) with
# 16 concurrent keep-alive clients.
#
#   tools/bench-fake.sh [PATH] [SECONDS]
#     PATH     request path under /v1 (default /organization/projects?limit=20)
#     SECONDS  duration with wrk (default 5)
#   env: CONNECTIONS (default 16), REQUESTS (curl fallback: total requests, default 20000),
#        FAKE_ARGS (extra arguments for the fake, e.g. "--projects 50 --app my.stub"),
#        LUA (default lua5.4)
#
# Uses wrk when installed (Debian package `wrk`), otherwise curl --parallel (slower client, so a
# lower bound). Run from anywhere; the fake is started from this tree and stopped afterwards.
set -eu
cd "$(dirname "$0")/.."
path="${1:-/organization/projects?limit=20}"
secs="${2:-5}"
conns="${CONNECTIONS:-16}"
total="${REQUESTS:-20000}"
lua="${LUA:-lua5.4}"
key="sk-admin-bench-key"

[ -f build/openai_admin/fake/httpd.so ] || make --no-print-directory fake >/dev/null

export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;${LUA_PATH:-;;}"
export LUA_CPATH="$PWD/build/?.so;${LUA_CPATH:-;;}"

out=$(mktemp)
err=$(mktemp)
# shellcheck disable=SC2086
"$lua" bin/openai-admin-fake --port 0 --admin-key "$key" --quiet --stats ${FAKE_ARGS:-} >"$out" 2>"$err" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out" "$err"; }
trap cleanup EXIT INT TERM

i=0
while [ ! -s "$out" ]; do
  i=$((i + 1))
  if [ "$i" -gt 200 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "bench-fake: the fake did not start:" >&2
    cat "$err" >&2
    exit 1
  fi
  sleep 0.05
done
base=$(head -n 1 "$out")
url="$base$path"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$url")
echo "fake: $base  path: $path  (probe status $status)  clients: $conns"

if command -v wrk >/dev/null 2>&1; then
  threads=4
  [ "$conns" -lt "$threads" ] && threads=$conns
  wrk -t"$threads" -c"$conns" -d"${secs}s" -H "Authorization: Bearer $key" "$url" |
    grep -E 'Latency|Requests/sec|requests in|Non-2xx|Socket errors'
else
  case "$path" in *\?*) sep="&" ;; *) sep="?" ;; esac
  echo "(wrk not installed: curl --parallel, $total requests)"
  start=$(date +%s.%N)
  curl -s --no-progress-meter --parallel --parallel-max "$conns" -o /dev/null \
    -H "Authorization: Bearer $key" "$url${sep}bench=[1-$total]" 2>/dev/null
  end=$(date +%s.%N)
  awk -v n="$total" -v a="$start" -v b="$end" \
    'BEGIN { printf "Requests/sec: %.0f  (%d requests in %.2f s)\n", n / (b - a), n, b - a }'
fi

kill -TERM "$pid"
wait "$pid" || true
sed -n 's/^openai-admin-fake stats: /host: /p' "$err" | tr ' ' '\n' |
  grep -E '^(host:|requests=|connections=|max_open_connections=)' | tr '\n' ' '
echo
trap - EXIT INT TERM
rm -f "$out" "$err"
