#!/bin/sh
# make fuzz: builds each libFuzzer target fuzz/fuzz_NAME.c with the C core under ASan/UBSan
# (clang from Debian) and runs it for FUZZ_SECONDS (default 60) from its committed seed corpus
# fuzz/corpus/NAME/ (new inputs go to build-fuzz/corpus/NAME/, crashes to build-fuzz/crashes/).
# Prints one line per target and exits non-zero when any target crashed.
# FUZZ_TARGETS="json_decode retry_headers" limits the run.
set -u
cd "$(dirname "$0")/.." || exit 1
CLANG=${FUZZ_CC:-$(command -v clang-14 || command -v clang)}
[ -n "$CLANG" ] || { echo "make fuzz: clang not found (Debian package clang-14)"; exit 1; }
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=${FUZZ_BUILD:-build-fuzz}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 $SAN"
PKGS="lua5.4 libcurl jansson"
INC=$(pkg-config --cflags $PKGS)
LIBS="$(pkg-config --libs $PKGS) -lm -lpthread"
mkdir -p "$OUT/obj" "$OUT/crashes"
objs=""
for src in src/*.c; do
  o="$OUT/obj/$(basename "$src" .c).o"
  if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find src -name '*.h' -newer "$o")" ]; then
    "$CLANG" $CFLAGS -fsanitize=fuzzer-no-link $INC -c "$src" -o "$o" || exit 1
  fi
  objs="$objs $o"
done
targets=${FUZZ_TARGETS:-$(for f in fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
status=0
for t in $targets; do
  bin="$OUT/fuzz_$t"
  "$CLANG" $CFLAGS -fsanitize=fuzzer $INC "fuzz/fuzz_$t.c" $objs $LIBS -o "$bin" || exit 1
  mkdir -p "$OUT/corpus/$t"
  log="$OUT/fuzz_$t.log"
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$OUT/crashes/$t-" -print_final_stats=1 \
    "$OUT/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ${runs:-?} runs in ${SECONDS_EACH}s, ${cov:-cov: ?}, no crash"
  else
    status=1
    echo "fuzz $t: CRASH (exit $rc) after ${runs:-?} runs; input in $OUT/crashes/, log $log:"
    grep -E "ERROR|invariant|runtime error|SUMMARY" "$log" | head -5
  fi
done
exit $status
