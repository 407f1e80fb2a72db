/// @file
/// Pareto frontiers of deployments: the points no other point beats on both of two axes.
///
/// A serving deployment trades the speed each user sees (tokens/s per user, 1 / TPOT) against
/// what the deployment delivers per device (tokens/s per device) or what a token costs ($ per
/// million output tokens). A point is on the frontier when no other point is at least as good on
/// both axes and better on one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace infercost::plan {

/// One operating point of a deployment shape: a decode batch on a layout, with the prefill
/// capacity its load needs.
struct frontier_point {
  std::string shape;                    ///< the deployment shape, one line
  double user_tokens_per_s = 0.0;       ///< tokens/s each user sees (1 / TPOT)
  double tokens_per_s_per_device = 0.0; ///< output tokens/s per device of the deployment
  double usd_per_million_output = 0.0;  ///< all device time per million output tokens
  int batch_per_group = 0;              ///< decode sequences per attention group
  double tpot_s = 0.0;                  ///< the decode step per output token
  bool chosen = false;                  ///< the plan's deployment shape at its batch
};

/// The points of `points` that no other point dominates when `better_x` and `better_y` say which
/// of two values is better on each axis (ties on both axes keep the first), sorted by x.
template <class X, class Y>
[[nodiscard]] std::vector<frontier_point> pareto(std::vector<frontier_point> points, X x, Y y) {
  // Sort by x best first, then y best first; a point joins when its y beats every earlier one.
  std::stable_sort(points.begin(), points.end(),
                   [&](const frontier_point& a, const frontier_point& b) {
                     if (x(a) != x(b))
                       return x(a) > x(b);
                     return y(a) > y(b);
                   });
  std::vector<frontier_point> out;
  for (const frontier_point& p : points)
    if (out.empty() || y(p) > y(out.back()))
      out.push_back(p);
  std::reverse(out.begin(), out.end());
  return out;
}

/// The frontier of tokens/s per device against tokens/s per user (both larger is better).
[[nodiscard]] inline std::vector<frontier_point>
throughput_frontier(std::vector<frontier_point> points) {
  return pareto(
      std::move(points), [](const frontier_point& p) { return p.user_tokens_per_s; },
      [](const frontier_point& p) { return p.tokens_per_s_per_device; });
}

/// The frontier of $ per million output tokens (smaller is better) against tokens/s per user.
[[nodiscard]] inline std::vector<frontier_point> cost_frontier(std::vector<frontier_point> points) {
  return pareto(
      std::move(points), [](const frontier_point& p) { return p.user_tokens_per_s; },
      [](const frontier_point& p) { return -p.usd_per_million_output; });
}

} // namespace infercost::plan
