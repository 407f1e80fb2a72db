#!/usr/bin/env bash
# Builds the libFuzzer targets with clang 14 (ASan + UBSan) and runs each for a bounded time, two
# at a time:
#   mooncake_trace  the Mooncake JSONL reader
#   azure_csv       the Azure LLM inference CSV reader
#   lengths_csv     the length-only CSV reader
#   cli_options     the option parsing of every `infercost` subcommand (parsed, never run)
# Each starts from its kept corpus, tests/fuzz/corpus/<target>, copied into the build dir so that
# new inputs stay there. A failing input is written to <build dir>/<target>/crash-*: once fixed,
# add it to tests/fuzz/corpus/<target>, which the tests fuzz_corpus/<target> replay.
# Usage: tests/fuzz/run_fuzz.sh [seconds per target, default 25] [build dir]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-25}"
out="${2:-$root/build-fuzz}"
cxx="${CXX_FUZZ:-clang++-14}"
mkdir -p "$out"
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined -I "$root/include" -isystem /usr/include/eigen3)

# Every translation unit is compiled as its own job, two at a time: the readers (one each) and
# the command line's subcommands (not main.cpp; -O0: parsing is cheap, compiling is not).
mkdir -p "$out/cli"
cli_flags=("${flags[@]}" -O0 -I "$root/examples/cli" -DINFERCOST_DATA_DIR="\"$root/../shared/data\""
           -DINFERCOST_EXAMPLES_DIR="\"$root/examples\"")
compile_reader() {
  "$cxx" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/$1_fuzz.cpp" -lfmt -o "$out/$1_fuzz"
}
compile_cli() {
  local f="$1" o="$out/cli/$(basename "$1" .cpp).o"
  rm -f "$o.instrumented"
  if "$cxx" "${cli_flags[@]}" -fsanitize=fuzzer-no-link -c "$f" -o "$o" 2> "$o.log"; then
    touch "$o.instrumented"
  else
    # A file clang 14 cannot compile is compiled by g++ without coverage or sanitizers; the
    # option parsing it calls lives in CLI11's headers, instrumented through the other files,
    # whose copies the link keeps (they come first).
    echo "fuzz: $(basename "$f"): compiled with g++, not instrumented ($o.log)"
    g++ -std=c++20 -O0 -I "$root/include" -isystem /usr/include/eigen3 -I "$root/examples/cli" \
      -DINFERCOST_DATA_DIR="\"$root/../shared/data\"" -DINFERCOST_EXAMPLES_DIR="\"$root/examples\"" \
      -c "$f" -o "$o"
  fi
}
cli_sources=()
for f in "$root"/examples/cli/*.cpp "$root/tests/fuzz/cli_options_fuzz.cpp"; do
  [ "$(basename "$f")" = main.cpp ] || cli_sources+=("$f")
done
running=0
compile_failed=0
limited() { # runs "$@" in the background, at most two at a time
  "$@" &
  if ((++running >= 2)); then
    wait -n || compile_failed=1
    ((running--))
  fi
}
for t in mooncake_trace azure_csv lengths_csv; do limited compile_reader "$t"; done
for f in "${cli_sources[@]}"; do limited compile_cli "$f"; done
while ((running > 0)); do
  wait -n || compile_failed=1
  ((running--))
done
if ((compile_failed)); then
  echo "fuzz: a target failed to compile" >&2
  exit 1
fi
instrumented=() plain=()
for f in "${cli_sources[@]}"; do
  o="$out/cli/$(basename "$f" .cpp).o"
  if [ -e "$o.instrumented" ]; then instrumented+=("$o"); else plain+=("$o"); fi
done
"$cxx" "${flags[@]}" -fsanitize=fuzzer "${instrumented[@]}" "${plain[@]}" -lfmt -pthread \
  -o "$out/cli_options_fuzz"

# A run: the kept corpus plus new inputs in $out/<target>/corpus; failures in $out/<target>/.
fuzz() {
  local t="$1" max_len="$2"
  mkdir -p "$out/$t/corpus"
  cp "$root/tests/fuzz/corpus/$t"/* "$out/$t/corpus/"
  "$out/${t}_fuzz" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$t/" "$out/$t/corpus" \
    > "$out/$t/log" 2>&1
}
data="$root/../shared/data/mooncake/conversation_trace.jsonl"
status=0
run_pair() {
  fuzz "$1" "$2" & local a=$!
  fuzz "$3" "$4" & local b=$!
  wait "$a" || { status=1; echo "fuzz: $1 failed (see $out/$1/log)" >&2; }
  wait "$b" || { status=1; echo "fuzz: $3 failed (see $out/$3/log)" >&2; }
}
mkdir -p "$out/mooncake_trace/corpus"
if [ -r "$data" ]; then head -n 20 "$data" > "$out/mooncake_trace/corpus/conversation_head"; fi
run_pair mooncake_trace 4096 azure_csv 4096
run_pair lengths_csv 4096 cli_options 512
for t in mooncake_trace azure_csv lengths_csv cli_options; do
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log" | tail -1)
  echo "fuzz: $t: ${runs:-?} runs in $seconds s"
done
exit "$status"
