#!/bin/sh
# make embed-test: runs the C embedding hosts built in BUILD (default build-tsan, by the
# embed-test target) against fake Admin APIs started here, under ThreadSanitizer, and fails on
# any ThreadSanitizer report or any failed request.
#   sh examples/embed/run-test.sh [BUILD]
# THREADS and REQUESTS (default 8 and 500) size the threads host's runs.
cd "$(dirname "$0")/../.." || exit 1
build=${1:-build-tsan}
threads=${THREADS:-8}
requests=${REQUESTS:-500}
work=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"' EXIT INT TERM
# start_fake NAME ARGS...: a fake Admin API on a free port; its base URL goes to $base_url.
start_fake() {
  name=$1
  shift
  lua5.4 bin/openai-admin-fake --port 0 --quiet "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids="$pids $!"
  base_url=
  for _ in $(seq 100); do # its first stdout line, once it accepts connections
    base_url=$(head -n 1 "$work/$name.out")
    case $base_url in http*) return 0 ;; esac
    sleep 0.1
  done
  echo "embed-test: the fake server did not start" >&2
  cat "$work/$name.err" >&2
  exit 1
}
start_fake plain
plain_url=$base_url
start_fake slow --latency 0.02 # the poll-loop host: requests that take a while, ticks meanwhile
slow_url=$base_url

# The modules from the tree: the Lua layer from lua/, core.so (for --open dynamic) from BUILD.
LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;"
LUA_CPATH="$PWD/$build/?.so;;"
export LUA_PATH LUA_CPATH

failed=0
reports_total=0
# run NAME COMMAND...: one host run; TSan writes its reports to $work/tsan.NAME.<pid>.
run() {
  name=$1
  shift
  TSAN_OPTIONS="halt_on_error=0 exitcode=66 log_path=$work/tsan.$name suppressions=$PWD/examples/embed/tsan.supp" \
    "$@" >"$work/$name.out" 2>"$work/$name.err"
  status=$?
  reports=$(cat "$work"/tsan."$name".* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer:')
  reports_total=$((reports_total + reports))
  summary=$(tail -n 1 "$work/$name.out")
  if [ "$status" -eq 0 ] && [ "$reports" -eq 0 ]; then
    echo "ok   $name: ${summary:-"(no output)"}; ThreadSanitizer reports: 0"
  else
    failed=$((failed + 1))
    echo "FAIL $name (exit status $status): ${summary:-"(no output)"}; ThreadSanitizer reports: $reports"
    head -c 4000 "$work/$name.err"
    cat "$work"/tsan."$name".* 2>/dev/null | head -n 80
  fi
}

echo "embed-test: fake Admin APIs at $plain_url and (20 ms latency) $slow_url; hosts from $build/embed"
# (at log level debug: every attempt is a line through each state's C logger, one per request
# and one per thread for its create)
run threads-static "$build/embed/embed_threads" --threads "$threads" --requests "$requests" --open static \
  --log-level debug "$plain_url"
case $summary in
  *", $((threads * requests + threads)) log lines,"*) ;;
  *) failed=$((failed + 1)); echo "FAIL threads-static: expected $((threads * requests + threads)) log lines" ;;
esac
run threads-dynamic "$build/embed/embed_threads" --threads "$threads" --requests "$requests" --open dynamic "$plain_url"
run threads-mixed-once "$build/embed/embed_threads_once" --threads "$threads" --requests 50 --open mixed "$plain_url"
run poll-loop "$build/embed/embed_poll" --requests 200 --concurrency 16 "$slow_url"

if [ "$failed" -eq 0 ]; then
  echo "embed-test: passed (ThreadSanitizer reports: $reports_total)"
else
  echo "embed-test: FAILED: $failed run(s) failed (ThreadSanitizer reports: $reports_total)"
fi
[ "$failed" -eq 0 ]
