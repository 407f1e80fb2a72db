/// @file
/// Load balancers: which instance of a pool gets a request. Run-time strategies over a snapshot
/// of the pool (load, queued prefill tokens, cached prefix of the request on each instance):
///
/// - round_robin: instances in turn.
/// - least_loaded: fewest requests assigned and not yet gone (ties: lowest index).
/// - power_of_two: two distinct instances drawn uniformly, the less loaded wins (Mitzenmacher,
///   "The Power of Two Choices in Randomized Load Balancing", IEEE TPDS 2001); seeded.
/// - cache_aware: Mooncake's conductor (Qin et al., FAST'25 §6) weighs the prefix an instance
///   already caches against its queue; here the instance with the fewest tokens to prefill
///   before this request's first token wins: queued prefill tokens + (prompt − cached prefix)
///   (ties: lower load, then lower index). Choosing a decode instance for a KV transfer there is
///   no prefill, so it reduces to least_loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"

namespace infercost::serving {

/// A load-balancing strategy.
enum class balancer_kind : std::uint8_t { round_robin, least_loaded, power_of_two, cache_aware };

/// "round_robin", "least_loaded", "power_of_two", "cache_aware".
[[nodiscard]] constexpr std::string_view to_string(balancer_kind k) noexcept {
  switch (k) {
  case balancer_kind::round_robin:
    return "round_robin";
  case balancer_kind::least_loaded:
    return "least_loaded";
  case balancer_kind::power_of_two:
    return "power_of_two";
  case balancer_kind::cache_aware:
    return "cache_aware";
  }
  return "?";
}

/// Parses a balancer name. @throws config_error listing the valid names.
[[nodiscard]] inline balancer_kind parse_balancer(std::string_view name) {
  for (balancer_kind k : {balancer_kind::round_robin, balancer_kind::least_loaded,
                          balancer_kind::power_of_two, balancer_kind::cache_aware})
    if (to_string(k) == name)
      return k;
  throw config_error("serving::balancer", "name",
                     fmt::format("('{}') must be one of round_robin, least_loaded, power_of_two, "
                                 "cache_aware",
                                 name));
}

/// What a balancer sees of one instance.
struct candidate {
  std::int64_t load = 0;          ///< requests assigned and not yet gone
  std::int64_t queued_tokens = 0; ///< prompt tokens waiting to be prefilled
  std::int64_t cached_tokens = 0; ///< prompt tokens of this request it caches (cache_aware)
};

/// A stateful balancer for one pool: round-robin position, and the engine that draws
/// power-of-two candidates.
class balancer {
public:
  balancer(balancer_kind kind, std::uint64_t seed) : kind_(kind), rng_(seed) {}

  [[nodiscard]] balancer_kind kind() const noexcept { return kind_; }
  /// Whether pick() reads candidate::cached_tokens.
  [[nodiscard]] bool needs_cache_match() const noexcept {
    return kind_ == balancer_kind::cache_aware;
  }

  /// Index of the chosen instance for a request of `input_tokens` prompt tokens.
  /// @throws config_error if there are no candidates.
  std::size_t pick(std::span<const candidate> c, std::int64_t input_tokens) {
    const std::size_t n = c.size();
    if (n == 0)
      throw config_error("serving::balancer", "instances", "(0) must be > 0");
    switch (kind_) {
    case balancer_kind::round_robin:
      return next_++ % n;
    case balancer_kind::least_loaded:
      return least_loaded(c);
    case balancer_kind::power_of_two: {
      if (n == 1)
        return 0;
      const auto a = static_cast<std::size_t>(rng_.uniform_int(n));
      auto b = static_cast<std::size_t>(rng_.uniform_int(n - 1));
      b += b >= a ? 1 : 0;
      return c[b].load < c[a].load ? b : a;
    }
    case balancer_kind::cache_aware: {
      std::size_t best = 0;
      std::int64_t best_cost = cost(c[0], input_tokens);
      for (std::size_t i = 1; i < n; ++i) {
        const std::int64_t k = cost(c[i], input_tokens);
        if (k < best_cost || (k == best_cost && c[i].load < c[best].load)) {
          best = i;
          best_cost = k;
        }
      }
      return best;
    }
    }
    return 0;
  }

private:
  [[nodiscard]] static std::size_t least_loaded(std::span<const candidate> c) noexcept {
    std::size_t best = 0;
    for (std::size_t i = 1; i < c.size(); ++i)
      if (c[i].load < c[best].load)
        best = i;
    return best;
  }
  [[nodiscard]] static std::int64_t cost(const candidate& c, std::int64_t input) noexcept {
    return c.queued_tokens + (input - c.cached_tokens);
  }

  balancer_kind kind_;
  rng rng_;
  std::size_t next_ = 0;
};

} // namespace infercost::serving
