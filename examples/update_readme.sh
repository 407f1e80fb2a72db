#!/usr/bin/env bash
# Regenerates the `infercost price` and `infercost plan` outputs shown in README.md. Builds
# nothing: run it after
#   cmake --preset dev && cmake --build build/dev
# The price output replaces the block between <!-- infercost-price:begin --> and
# <!-- infercost-price:end -->; without those markers the block (markers included) is added at the
# end of the "Quick start" section. The plan output replaces the block between
# <!-- infercost-plan:begin --> and <!-- infercost-plan:end --> when those markers are there.
# Nothing else in README.md changes.
# Usage: examples/update_readme.sh [path/to/infercost] [README.md]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/build/dev/examples/infercost}"
readme="${2:-$root/README.md}"
begin='<!-- infercost-price:begin -->'
end='<!-- infercost-price:end -->'

if [[ ! -x "$bin" ]]; then
  echo "update_readme.sh: $bin not found; build it first (cmake --build build/dev)" >&2
  exit 1
fi
if [[ ! -f "$readme" ]]; then
  echo "update_readme.sh: $readme not found" >&2
  exit 1
fi

# Writes to $out the README with the lines from marker $1 to marker $2 (inclusive) replaced by
# the file $block.
replace_block() {
  awk -v b="$1" -v e="$2" -v f="$block" '
    $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
    $0 == e { skip = 0; next }
    !skip { print }' "$readme" >"$out"
}

block="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$block" "$out"' EXIT
{
  echo "$begin"
  echo '```text'
  echo '$ infercost price'
  "$bin" price
  echo '```'
  echo "$end"
} >"$block"

has_begin=$(grep -cxF -- "$begin" "$readme" || true)
has_end=$(grep -cxF -- "$end" "$readme" || true)
if [[ "$has_begin" == 1 && "$has_end" == 1 ]]; then
  # Replace the lines from the begin marker to the end marker, inclusive.
  replace_block "$begin" "$end"
elif [[ "$has_begin" == 0 && "$has_end" == 0 ]]; then
  # Insert before the first heading of level <= 2 after "Quick start" (outside code fences),
  # or at the end of the file.
  if ! grep -qE '^##? .*Quick start' "$readme"; then
    echo "update_readme.sh: no markers and no \"Quick start\" section in $readme" >&2
    exit 1
  fi
  awk -v f="$block" '
    function emit() { while ((getline l < f) > 0) print l; print ""; done = 1 }
    /^```/ { fence = !fence }
    !fence && !done && in_qs && /^##? / { emit(); in_qs = 0 }
    !fence && /^##? .*Quick start/ { in_qs = 1 }
    { print }
    END { if (!done) { print ""; emit() } }' "$readme" >"$out"
else
  echo "update_readme.sh: $readme has unbalanced infercost-price markers" >&2
  exit 1
fi
cat "$out" >"$readme"

plan_begin='<!-- infercost-plan:begin -->'
plan_end='<!-- infercost-plan:end -->'
if [[ "$(grep -cxF -- "$plan_begin" "$readme" || true)" == 1 &&
      "$(grep -cxF -- "$plan_end" "$readme" || true)" == 1 ]]; then
  {
    echo "$plan_begin"
    echo '```text'
    echo '$ infercost plan'
    # The search's own wall time varies from run to run; the rest is deterministic.
    "$bin" plan | sed -E 's/; [0-9.]+ s$/; (time varies)/'
    echo '```'
    echo "$plan_end"
  } >"$block"
  replace_block "$plan_begin" "$plan_end"
  cat "$out" >"$readme"
fi
sweep_begin='<!-- infercost-plan-sweep:begin -->'
sweep_end='<!-- infercost-plan-sweep:end -->'
sweep="$(dirname "$bin")/plan_sweep"
if [[ -x "$sweep" ]] && command -v mpirun >/dev/null &&
   [[ "$(grep -cxF -- "$sweep_begin" "$readme" || true)" == 1 ]]; then
  {
    echo "$sweep_begin"
    echo '```text'
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe \
      "$sweep" --models llama3_8b,qwen3_30b_a3b --devices h100_sxm,ascend_910b --rates 2,8 \
      --max-requests 200
    echo '```'
    echo "$sweep_end"
  } >"$block"
  replace_block "$sweep_begin" "$sweep_end"
  cat "$out" >"$readme"
fi
echo "update_readme.sh: updated $readme" >&2
