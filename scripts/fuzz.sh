#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz with clang-14 (ASan + UBSan) into build/fuzz
# and runs them from the committed seed corpora (tests/fuzz/seeds/HARNESS), each in its own
# scratch corpus so the seeds never change:
#   scripts/fuzz.sh --short          every harness for 10 s, two at a time (the test command);
#                                    a fixed random seed, so a clean run explores the same inputs
#                                    every time and the test command stays reproducible
#   scripts/fuzz.sh --long [SECONDS] every harness for SECONDS (default 3600), two at a time
#   scripts/fuzz.sh --build          build only
# Exits non-zero when a harness finds anything (crash, leak, sanitizer report, timeout);
# the reproducer and the log are kept in build/fuzz/findings/. Prints executions per harness.
set -eu
cd "$(dirname "$0")/.."
mode=${1:---short}
case "$mode" in
--short) seconds=10 seed=1 ;;
--long) seconds=${2:-3600} seed=0 ;; # 0: libFuzzer picks a new seed each run
--build) seconds=0 seed=0 ;;
*) echo "fuzz.sh: unknown mode '$mode' (--short, --long [SECONDS], --build)" >&2; exit 2 ;;
esac
cc=${CC:-clang-14}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz.sh: $cc not found: install the Debian packages clang-14 and libclang-rt-14-dev" >&2
  exit 2
fi
CC=$cc cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DNW_FUZZ=ON -DNW_BUILD_TESTS=OFF \
  >/dev/null
cmake --build build/fuzz -j "$(nproc)" >/dev/null
[ "$seconds" -gt 0 ] || exit 0

out=build/fuzz/findings
work=build/fuzz/corpus
mkdir -p "$out" "$work"
harnesses=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')

# Extra seed folders for a harness: the readers' own test documents.
extra_seeds() {
  case "$1" in
  fuzz_html) echo tests/data/html ;;
  fuzz_ninjs) echo tests/data/ninjs ;;
  esac
}

# Runs one harness; prints "NAME: N executions, OK|FINDING".
run_one() {
  name=$1
  corpus=$work/$name
  mkdir -p "$corpus"
  log=$out/$name.log
  status=0
  # -rss_limit_mb and -timeout make a blow-up (memory, a slow input) a finding too.
  # Seeds: the harness's own folder, and the test pages the readers' unit tests use.
  seeds=""
  for dir in "tests/fuzz/seeds/$name" $(extra_seeds "$name"); do
    [ -d "$dir" ] && seeds="$seeds $dir"
  done
  # shellcheck disable=SC2086 # the seed folders are words
  build/fuzz/tests/fuzz/"$name" "$corpus" $seeds \
    -max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$out/$name-" -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$status" -eq 0 ]; then
    echo "$name: ${execs:-?} executions in ${seconds} s, no finding"
  else
    echo "$name: FINDING after ${execs:-?} executions (exit $status); see $log"
    tail -n 30 "$log" >&2
  fi
  return "$status"
}

failed=0
set -- $harnesses
while [ $# -gt 0 ]; do
  a=$1; shift
  b=${1:-}; [ $# -gt 0 ] && shift
  run_one "$a" >"$out/$a.result" 2>&1 &
  pa=$!
  pb=
  if [ -n "$b" ]; then
    run_one "$b" >"$out/$b.result" 2>&1 &
    pb=$!
  fi
  wait "$pa" || failed=1
  cat "$out/$a.result"
  if [ -n "$pb" ]; then
    wait "$pb" || failed=1
    cat "$out/$b.result"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: a harness found something (reproducers in $out)" >&2
  exit 1
fi
echo "fuzz.sh: no finding"
