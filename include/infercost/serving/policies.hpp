/// @file
/// The policy classes of the serving simulator, each checked by a concept in
/// infercost/concepts.hpp so that a user's own class works without editing the library:
///
/// - **balancer** (`balancer_policy`): which instance of a pool gets a request —
///   `round_robin`, `least_loaded`, `power_of_two` (Mitzenmacher, "The Power of Two Choices in
///   Randomized Load Balancing", IEEE TPDS 2001; seeded), `cache_aware` (Mooncake's conductor, Qin
///   et al. FAST'25 §6: the fewest tokens to prefill before this request's first token, queued
///   prefill tokens + prompt − cached prefix; for a KV transfer target, where nothing is
///   prefilled, it reduces to least_loaded), and `balancer_choice`, any of them chosen at run time.
/// - **PD admission** (`pd_admission_policy`): whether a prompt goes to the prefill pool or is
///   prefilled on a decode instance — `length_threshold` (the article's rule, §3.3: longer than a
///   threshold, 4096 in the article; 0 sends every prompt), `always_disaggregate`, `load_aware`
///   (the threshold, unless the prefill pool is backed up more than the decode pool by a factor),
///   and `admission_choice`.
/// - **batching and preemption** (`batching_policy`): the order in which an instance admits
///   waiting prompts and, when decoding sequences run out of KV memory, which running sequence it
///   preempts (the last in its preemption order; its KV is dropped and recomputed later, vLLM's
///   recompute preemption). `fcfs` (vLLM's first-come first-served, head-of-line blocking
///   on memory) and `deadline_first` (SLO-aware: decode first as always, then prompts by TTFT
///   deadline, arrival + objective, a prompt that does not fit letting later ones pass), and
///   `batching_choice`. The step token budget and chunked prefill (Sarathi-Serve, Agrawal et al.
///   OSDI'24) are the instance's mechanism; decode tokens always come first in the budget.
/// - **KV transfer** (`kv_transfer_policy`): how long a prompt's KV takes to reach its decode
///   instance once its prefill ends — `whole_prompt` (sent after the last chunk) or `layer_wise`
///   (streamed layer by layer while the prefill runs, as Mooncake and DistServe do: only what the
///   link could not send during the prefill, and at least one layer's share, remains), and
///   `transfer_choice`.
///
/// A cluster takes them as one bundle of types (`default_policies`, or a struct derived from it
/// that replaces some) and their values (`policy_values`).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "infercost/attention/cost.hpp"
#include "infercost/concepts.hpp"
#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/kvcache/eviction.hpp"
#include "infercost/serving/views.hpp"

namespace infercost::serving {

namespace detail {
/// The common part of the run-time choices below: one of `Ps`, chosen at run time, named by the
/// policy it holds. The choices' members that visit the variant are templates (with no parameter
/// to deduce), so that std::visit is compiled only where a simulation uses them, not wherever this
/// header is included.
template <class... Ps> class choice {
public:
  choice() = default;
  template <class P>
  requires(std::is_same_v<std::remove_cvref_t<P>, Ps> || ...)
      choice(P p) // NOLINT(google-explicit-constructor): a policy converts to a choice of it
      : held_(std::move(p)) {}
  /// The held policy's name.
  template <class = void> [[nodiscard]] std::string_view kind() const noexcept {
    return std::visit([](const auto& p) { return std::remove_cvref_t<decltype(p)>::name; }, held_);
  }

protected:
  std::variant<Ps...> held_{};
};
} // namespace detail

// ---------------------------------------------------------------------------------------------
// Balancers

namespace detail {
[[nodiscard]] inline std::size_t least_loaded_of(std::span<const candidate> c) noexcept {
  std::size_t best = 0;
  for (std::size_t i = 1; i < c.size(); ++i)
    if (c[i].load < c[best].load)
      best = i;
  return best;
}
inline void check_candidates(std::span<const candidate> c) {
  if (c.empty())
    throw config_error("serving::balancer", "instances", "(0) must be > 0");
}
} // namespace detail

/// Instances in turn.
class round_robin {
public:
  static constexpr std::string_view name = "round_robin";
  [[nodiscard]] bool needs_cache_match() const noexcept { return false; }
  void seed(std::uint64_t) noexcept {}
  std::size_t pick(std::span<const candidate> c, const request_view&) {
    detail::check_candidates(c);
    return next_++ % c.size();
  }

private:
  std::size_t next_ = 0;
};

/// Fewest requests assigned and not yet gone (ties: the lowest index).
class least_loaded {
public:
  static constexpr std::string_view name = "least_loaded";
  [[nodiscard]] bool needs_cache_match() const noexcept { return false; }
  void seed(std::uint64_t) noexcept {}
  std::size_t pick(std::span<const candidate> c, const request_view&) {
    detail::check_candidates(c);
    return detail::least_loaded_of(c);
  }
};

/// Two distinct instances drawn uniformly; the less loaded wins (ties: the first drawn).
class power_of_two {
public:
  static constexpr std::string_view name = "power_of_two";
  [[nodiscard]] bool needs_cache_match() const noexcept { return false; }
  void seed(std::uint64_t s) noexcept { rng_ = rng(s); }
  std::size_t pick(std::span<const candidate> c, const request_view&) {
    detail::check_candidates(c);
    const std::size_t n = c.size();
    if (n == 1)
      return 0;
    const auto a = static_cast<std::size_t>(rng_.uniform_int(n));
    auto b = static_cast<std::size_t>(rng_.uniform_int(n - 1));
    b += b >= a ? 1 : 0;
    return c[b].load < c[a].load ? b : a;
  }

private:
  rng rng_{0};
};

/// Fewest tokens to prefill before the request's first token: queued prefill tokens + (prompt −
/// cached prefix); ties: lower load, then lower index.
class cache_aware {
public:
  static constexpr std::string_view name = "cache_aware";
  [[nodiscard]] bool needs_cache_match() const noexcept { return true; }
  void seed(std::uint64_t) noexcept {}
  std::size_t pick(std::span<const candidate> c, const request_view& r) {
    detail::check_candidates(c);
    std::size_t best = 0;
    std::int64_t best_cost = cost(c[0], r.input_tokens);
    for (std::size_t i = 1; i < c.size(); ++i) {
      const std::int64_t k = cost(c[i], r.input_tokens);
      if (k < best_cost || (k == best_cost && c[i].load < c[best].load)) {
        best = i;
        best_cost = k;
      }
    }
    return best;
  }

private:
  [[nodiscard]] static std::int64_t cost(const candidate& c, std::int64_t input) noexcept {
    return c.queued_tokens + (input - c.cached_tokens);
  }
};

/// One of the built-in balancers, chosen at run time (by name: parse_balancer). It behaves
/// exactly as the balancer it holds.
class balancer_choice
    : public detail::choice<least_loaded, round_robin, power_of_two, cache_aware> {
public:
  static constexpr std::string_view name = "balancer_choice";
  using choice::choice;
  template <class = void> [[nodiscard]] bool needs_cache_match() const noexcept {
    return std::visit([](const auto& b) { return b.needs_cache_match(); }, held_);
  }
  template <class = void> void seed(std::uint64_t s) noexcept {
    std::visit([&](auto& b) { b.seed(s); }, held_);
  }
  template <class = void> std::size_t pick(std::span<const candidate> c, const request_view& r) {
    return std::visit([&](auto& b) { return b.pick(c, r); }, held_);
  }
};

/// The built-in balancer called `name`: round_robin, least_loaded, power_of_two, cache_aware.
/// @throws config_error listing the valid names.
[[nodiscard]] inline balancer_choice parse_balancer(std::string_view name) {
  if (name == round_robin::name)
    return round_robin{};
  if (name == least_loaded::name)
    return least_loaded{};
  if (name == power_of_two::name)
    return power_of_two{};
  if (name == cache_aware::name)
    return cache_aware{};
  throw config_error("serving::balancer", "name",
                     fmt::format("('{}') must be one of round_robin, least_loaded, power_of_two, "
                                 "cache_aware",
                                 name));
}

// ---------------------------------------------------------------------------------------------
// PD admission

/// Prompts longer than `threshold_tokens` go to the prefill pool; others are prefilled on a
/// decode instance (the article's rule, §3.3, with 4096; 0 sends every prompt).
struct length_threshold {
  static constexpr std::string_view name = "length_threshold";
  std::int64_t threshold_tokens = 0;
  [[nodiscard]] bool disaggregate(const request_view& r, const pool_load&, const pool_load&) const {
    check_non_negative("serving::length_threshold", "threshold_tokens", threshold_tokens);
    return r.input_tokens > threshold_tokens;
  }
};

/// Every prompt goes to the prefill pool.
struct always_disaggregate {
  static constexpr std::string_view name = "always";
  [[nodiscard]] bool disaggregate(const request_view&, const pool_load&, const pool_load&) const {
    return true;
  }
};

/// The length threshold, except that a prompt over it stays on a decode instance while the
/// prefill pool's queued prefill tokens per instance exceed `backlog_factor` times the decode
/// pool's (counting this prompt): a backed-up prefill pool is bypassed rather than waited for.
/// A heuristic in the spirit of Splitwise's mixed pool (Patel et al., ISCA'24 §5) and DistServe's
/// placement; `backlog_factor` is a knob, not a measured constant.
struct load_aware {
  static constexpr std::string_view name = "load_aware";
  std::int64_t threshold_tokens = 0;
  double backlog_factor = 4.0;
  [[nodiscard]] bool disaggregate(const request_view& r, const pool_load& prefill,
                                  const pool_load& decode) const {
    constexpr std::string_view c = "serving::load_aware";
    check_non_negative(c, "threshold_tokens", threshold_tokens);
    check_positive(c, "backlog_factor", backlog_factor);
    if (r.input_tokens <= threshold_tokens)
      return false;
    const double p = prefill.queued_prefill_tokens / std::max(prefill.instances, 1.0);
    const double d = (decode.queued_prefill_tokens + static_cast<double>(r.input_tokens)) /
                     std::max(decode.instances, 1.0);
    return p <= backlog_factor * d;
  }
};

/// One of the built-in admission rules, chosen at run time.
class admission_choice : public detail::choice<length_threshold, always_disaggregate, load_aware> {
public:
  static constexpr std::string_view name = "admission_choice";
  using choice::choice;
  template <class = void>
  [[nodiscard]] bool disaggregate(const request_view& r, const pool_load& p,
                                  const pool_load& d) const {
    return std::visit([&](const auto& a) { return a.disaggregate(r, p, d); }, held_);
  }
};

// ---------------------------------------------------------------------------------------------
// Batching and preemption

/// First come, first served (vLLM's default): prompts are admitted in arrival order, a preempted
/// sequence going back to the head of the queue; the queue's head blocks the rest when it does
/// not fit in KV memory; the youngest running sequence is preempted first.
struct fcfs {
  static constexpr std::string_view name = "fcfs";
  /// Admission order: arrival (the request id); a preempted sequence ahead of every new one, the
  /// latest preempted first.
  [[nodiscard]] double admission_order(const request_view& r) const noexcept {
    return r.requeued > 0 ? -static_cast<double>(r.requeued) : static_cast<double>(r.id);
  }
  /// Preemption order: arrival; the youngest goes first.
  [[nodiscard]] double preemption_order(const request_view& r) const noexcept {
    return static_cast<double>(r.id);
  }
  [[nodiscard]] bool head_of_line_blocking() const noexcept { return true; }
};

/// SLO-aware: decode steps go first (as always), then prompts by earliest TTFT deadline
/// (arrival + `ttft_objective_s`), a prompt that does not fit in KV memory letting smaller later
/// ones pass; the running sequence with the latest deadline is preempted first.
struct deadline_first {
  static constexpr std::string_view name = "deadline_first";
  double ttft_objective_s = 2.0; ///< TTFT objective the deadlines are set by
  [[nodiscard]] double admission_order(const request_view& r) const noexcept {
    return r.arrival_s + ttft_objective_s;
  }
  [[nodiscard]] double preemption_order(const request_view& r) const noexcept {
    return r.arrival_s + ttft_objective_s;
  }
  [[nodiscard]] bool head_of_line_blocking() const noexcept { return false; }
};

/// One of the built-in batching policies, chosen at run time.
class batching_choice : public detail::choice<fcfs, deadline_first> {
public:
  static constexpr std::string_view name = "batching_choice";
  using choice::choice;
  template <class = void>
  [[nodiscard]] double admission_order(const request_view& r) const noexcept {
    return std::visit([&](const auto& p) { return p.admission_order(r); }, held_);
  }
  template <class = void>
  [[nodiscard]] double preemption_order(const request_view& r) const noexcept {
    return std::visit([&](const auto& p) { return p.preemption_order(r); }, held_);
  }
  template <class = void> [[nodiscard]] bool head_of_line_blocking() const noexcept {
    return std::visit([](const auto& p) { return p.head_of_line_blocking(); }, held_);
  }
};

// ---------------------------------------------------------------------------------------------
// KV transfer

/// The whole prompt's KV is sent after its prefill ends.
struct whole_prompt {
  static constexpr std::string_view name = "whole_prompt";
  [[nodiscard]] double remaining_s(const transfer_view& t) const noexcept { return t.transfer_s; }
};

/// Layer-wise streaming (Mooncake, Qin et al. FAST'25 §4; DistServe, Zhong et al. OSDI'24 §4.2):
/// each layer's KV leaves as soon as the layer is prefilled, so the transfer overlaps the prefill;
/// what remains at its end is the part the link could not carry meanwhile, and at least the last
/// layer's share.
struct layer_wise {
  static constexpr std::string_view name = "layer_wise";
  [[nodiscard]] double remaining_s(const transfer_view& t) const noexcept {
    const double layers = std::max(t.layers, 1);
    return std::max(t.transfer_s - t.prefill_s, t.transfer_s / layers);
  }
};

/// One of the built-in transfer policies, chosen at run time.
class transfer_choice : public detail::choice<whole_prompt, layer_wise> {
public:
  static constexpr std::string_view name = "transfer_choice";
  using choice::choice;
  template <class = void> [[nodiscard]] double remaining_s(const transfer_view& t) const noexcept {
    return std::visit([&](const auto& p) { return p.remaining_s(t); }, held_);
  }
};

// ---------------------------------------------------------------------------------------------
// Bundles

/// The policy types of a cluster. Derive from it and replace an alias to change one policy:
/// `struct my_policies : serving::default_policies { using balancer = my_balancer; };`.
struct default_policies {
  using attention = infercost::attention::full; ///< attention::attention_policy
  using eviction = kvcache::lru;                ///< kvcache::eviction_policy (prefix cache)
  using balancer = least_loaded;                ///< balancer_policy
  using admission = length_threshold;           ///< pd_admission_policy
  using batching = fcfs;                        ///< batching_policy
  using transfer = whole_prompt;                ///< kv_transfer_policy
};

/// The bundle whose serving policies are chosen at run time (what a command line uses).
struct runtime_policies : default_policies {
  using balancer = balancer_choice;
  using admission = admission_choice;
  using batching = batching_choice;
  using transfer = transfer_choice;
};

/// A bundle with another attention policy.
template <infercost::attention::attention_policy A, class Base = default_policies>
struct with_attention : Base {
  using attention = A;
};

/// The values of a bundle's serving policies (their numbers, or their run-time choice).
template <class Policies> struct policy_values {
  typename Policies::balancer balancer{};
  typename Policies::admission admission{};
  typename Policies::batching batching{};
  typename Policies::transfer transfer{};
};

} // namespace infercost::serving
