#!/usr/bin/env bash
# Builds the Mooncake JSONL reader's libFuzzer target with clang 14 (ASan + UBSan) and runs it
# for a bounded time. Usage: tests/fuzz/run_fuzz.sh [seconds, default 60] [build dir]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-60}"
out="${2:-$root/build-fuzz}"
cxx="${CXX_FUZZ:-clang++-14}"
mkdir -p "$out/corpus"

"$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I "$root/include" "$root/tests/fuzz/mooncake_trace_fuzz.cpp" -lfmt \
  -o "$out/mooncake_trace_fuzz"

# Seed corpus: valid lines, a line without hash_ids, and a few malformed ones.
printf '%s\n' '{"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 2]}' \
  > "$out/corpus/valid"
printf '%s\n' '{"timestamp": 1.5e2, "input_length": 10, "output_length": 3, "x": {"a": [null]}}' \
  > "$out/corpus/no_hash"
printf '%s\n' '{"timestamp": 0, "input_length": 01, "output_length": -1, "hash_ids": [1,,2]' \
  > "$out/corpus/bad"
data="$root/../shared/data/mooncake/conversation_trace.jsonl"
if [ -r "$data" ]; then head -n 20 "$data" > "$out/corpus/conversation_head"; fi

"$out/mooncake_trace_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -print_final_stats=1 "$out/corpus"
