#!/usr/bin/env bash
# Prints which areas of include/infercost each area includes (an area is a folder: core, device,
# model, moe, attention, speculative, kvcache, engine, serving, econ, io, plan; the top-level headers
# are "top") and fails if the graph between areas has a cycle (tsort finds it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/include/infercost"
area_of() { # path relative to include/infercost -> area
  case "$1" in */*) echo "${1%%/*}" ;; *) echo top ;; esac
}
edges="$(mktemp)"
trap 'rm -f "$edges"' EXIT
while IFS= read -r f; do
  from="$(area_of "$f")"
  { grep -o '#include "infercost/[^"]*"' "$f" || true; } | sed 's|#include "infercost/||; s|"$||' |
    while IFS= read -r inc; do
      to="$(area_of "$inc")"
      # The umbrella headers include everything; concepts.hpp and fwd.hpp are declarations.
      [[ "$from" == "$to" || "$from" == top ]] && continue
      echo "$from $to"
    done
done < <(find . -name '*.hpp' | sed 's|^\./||' | sort) | sort -u >"$edges"
echo "area -> areas it includes"
for a in $(cut -d' ' -f1 "$edges" | sort -u); do
  printf '  %-12s %s\n' "$a" "$(awk -v a="$a" '$1 == a { print $2 }' "$edges" | paste -sd' ')"
done
# tsort prints the areas in dependency order, or reports the cycle and fails.
if ! order="$(awk '{ print $2, $1 }' "$edges" | tsort 2>&1)" || grep -q "loop" <<<"$order"; then
  echo "include graph between areas has a cycle:" >&2
  echo "$order" >&2
  exit 1
fi
echo "acyclic; from the bottom: $(paste -sd' ' <<<"$order")"
