#!/bin/sh
# Runs the busted suite under Lua 5.4 (TAP output), plus luacheck when it is installed, and ends
# with the plain line "N passed, N failed". Exit status 0 only when nothing failed and something ran.
# Extra arguments go to busted (e.g. a spec file, or --filter).
cd "$(dirname "$0")/.." || exit 1
# Modules from the tree first (make exports the same; make asan points LUA_CPATH at its build).
: "${LUA_PATH:=$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/tests/?.lua;;}"
: "${LUA_CPATH:=$PWD/build/?.so;;}"
export LUA_PATH LUA_CPATH
out=$(mktemp)
# lua5.4 runs busted itself (not busted --lua), so VALGRIND can wrap the interpreter.
status=$(mktemp)
vglogs=$(mktemp -d)
trap 'rm -rf "$out" "$status" "$vglogs"' EXIT
# Under valgrind every traced process (the fake servers the specs start too) logs to its own
# file; -q leaves a file empty unless valgrind found something.
[ -n "${VALGRIND:-}" ] && VALGRIND="$VALGRIND --log-file=$vglogs/%p.log"
{ ${VALGRIND:-} lua5.4 "$(command -v busted)" --ignore-lua -o TAP "$@" 2>&1; echo $? >"$status"; } | tee "$out"
# a skipped spec (busted's pending: a tool that is not installed) is not a pass
skipped=$(grep -c '^ok [0-9]* - # SKIP' "$out")
passed=$(( $(grep -c '^ok ' "$out") - skipped ))
failed=$(grep -c '^not ok ' "$out")
if ! grep -q '^1\.\.[0-9]' "$out"; then
  echo "busted did not finish (no TAP plan line)"
  failed=$((failed + 1))
elif [ "$(cat "$status")" != 0 ] && [ "$failed" -eq 0 ]; then
  # every test passed but the run did not: valgrind or a sanitizer found something
  echo "not ok - busted exited with status $(cat "$status")"
  failed=$((failed + 1))
fi
for log in "$vglogs"/*.log; do
  [ -s "$log" ] || continue
  echo "not ok - valgrind: $(head -c 2000 "$log")"
  failed=$((failed + 1))
done
if [ $# -eq 0 ] && command -v luacheck >/dev/null 2>&1; then
  if luacheck -q lua bin/* tests tools examples bench >"$out" 2>&1; then
    passed=$((passed + 1)); echo "ok - luacheck"
  else
    cat "$out"; failed=$((failed + 1)); echo "not ok - luacheck"
  fi
fi
[ "$skipped" -gt 0 ] && echo "$skipped skipped (see the '# SKIP' lines above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
