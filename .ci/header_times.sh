#!/usr/bin/env bash
# Prints the syntax-only parse time of every public header (and of the umbrella headers) as a
# consumer pays it: a translation unit that includes the header and defines an empty main,
# compiled with `-std=c++20 -fsyntax-only`. Reported, not asserted: times on shared machines are
# noisy. Usage: .ci/header_times.sh [compiler, default ${CXX:-g++}] [repetitions, default 1]
# [parallel jobs for the per-header list, default 1; each job compiles one file on one core]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cxx="${1:-${CXX:-g++}}"
reps="${2:-1}"
jobs="${3:-1}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
flags=(-std=c++20 -fsyntax-only -I "$root/include" -I /usr/include/eigen3)

# Best of `reps` runs of one translation unit, in seconds; extra compiler flags follow `src`.
time_tu() {
  local src="$1" best=""
  shift
  for ((i = 0; i < reps; ++i)); do
    local t0 t1
    t0=$(date +%s%N)
    "$cxx" "${flags[@]}" "$@" "$src"
    t1=$(date +%s%N)
    local t=$(((t1 - t0) / 1000000))
    if [[ -z "$best" || $t -lt $best ]]; then best=$t; fi
  done
  printf '%d.%02d' $((best / 1000)) $((best % 1000 / 10))
}

report() { # label, include lines, extra compiler flags
  local label="$1" src
  src="$(mktemp "$tmp/tu.XXXXXX.cpp")"
  printf '%s\nint main() {}\n' "$2" >"$src"
  printf '%-48s %6s s\n' "$label" "$(time_tu "$src" "${@:3}")"
}

echo "syntax-only parse time per header ($("$cxx" --version | head -n 1)), best of $reps"
report "baseline: <Eigen/Dense> + <fmt/core.h>" $'#include <Eigen/Dense>\n#include <fmt/core.h>'
report "baseline: <fmt/format.h>" '#include <fmt/format.h>'
report "baseline: <nlohmann/json.hpp>" '#include <nlohmann/json.hpp>'
cd "$root/include"
for h in infercost/infercost.hpp infercost/numeric.hpp infercost/all.hpp; do
  [[ -f "$h" ]] && report "$h" "#include <$h>"
done
# The compiled mode (core/macros.hpp): the JSON readers and writer only declare what the
# infercost::compiled library defines, so they leave nlohmann::json out.
for h in infercost/all.hpp infercost/io/mooncake_trace.hpp infercost/model/hf_config.hpp \
  infercost/serving/report_json.hpp; do
  [[ -f "$h" ]] && report "compiled: $h" "#include <$h>" -DINFERCOST_COMPILED=1
done
# The per-header list, `jobs` at a time, printed in order.
headers=($(find infercost -mindepth 2 -name '*.hpp' | sort))
for ((i = 0; i < ${#headers[@]}; i += jobs)); do
  for ((j = i; j < i + jobs && j < ${#headers[@]}; ++j)); do
    report "${headers[j]}" "#include <${headers[j]}>" >"$tmp/line.$j" &
  done
  wait
  for ((j = i; j < i + jobs && j < ${#headers[@]}; ++j)); do cat "$tmp/line.$j"; done
done
