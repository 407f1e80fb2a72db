/// @file
/// What a serving simulation measures per request, and the statistics built from it: TTFT, TPOT,
/// end-to-end latency and queueing (mean, p50, p90, p99), goodput under TTFT/TPOT service-level
/// objectives, and time averages of piecewise-constant quantities (requests in the system).
///
/// Definitions (DistServe, Zhong et al. OSDI'24 §2; vLLM's benchmark_serving):
/// - TTFT = time the first output token is available − arrival. In PD disaggregation the first
///   token is available once the request's KV cache has reached its decode instance. A request
///   with no output tokens (a prefill-only request: scoring, embedding, a cache warm-up) ends
///   with its prefill; its TTFT is that end − arrival, the time to its only response.
/// - TPOT = (completion − first token) / (output tokens − 1), for requests with >= 2 tokens.
/// - E2E = completion − arrival; queueing = start of the first prefill chunk − arrival.
/// - Goodput = completed requests meeting both SLOs per second of makespan. A request with no
///   second token has no TPOT and meets the TPOT SLO vacuously; one with no token at all
///   (output 0) must still meet the TTFT SLO with its prefill.
/// - Statistics over no requests (every request rejected, say) are NaN with a count of 0: the
///   JSON report writes them as null, the command line as "n/a".
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/stats.hpp"

namespace infercost::serving {

/// Where a request ended.
enum class request_status : std::uint8_t { pending, completed, rejected };

/// Why a request was rejected.
enum class rejection_reason : std::uint8_t {
  none,                ///< not rejected
  exceeds_kv_capacity, ///< prompt + output cannot fit in an instance's KV memory even alone
  queue_full,          ///< the chosen instance's waiting queue was at its limit
};

/// "pending", "completed", "rejected".
[[nodiscard]] constexpr std::string_view to_string(request_status s) noexcept {
  switch (s) {
  case request_status::pending:
    return "pending";
  case request_status::completed:
    return "completed";
  case request_status::rejected:
    return "rejected";
  }
  return "?";
}

/// "none", "exceeds_kv_capacity", "queue_full".
[[nodiscard]] constexpr std::string_view to_string(rejection_reason r) noexcept {
  switch (r) {
  case rejection_reason::none:
    return "none";
  case rejection_reason::exceeds_kv_capacity:
    return "exceeds_kv_capacity";
  case rejection_reason::queue_full:
    return "queue_full";
  }
  return "?";
}

/// Every reason, for iteration.
inline constexpr rejection_reason all_rejection_reasons[] = {rejection_reason::exceeds_kv_capacity,
                                                             rejection_reason::queue_full};

/// The life of one request in the simulation. Times are simulated seconds; NaN until reached.
struct request_record {
  std::int64_t id = 0;
  double arrival_s = 0.0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cached_tokens = 0; ///< prompt tokens served from the prefix cache (first pass)
  std::int32_t prefill_instance = -1;
  std::int32_t decode_instance = -1;
  double first_scheduled_s = std::numeric_limits<double>::quiet_NaN(); ///< first prefill chunk
  double first_token_s = std::numeric_limits<double>::quiet_NaN();
  double completion_s = std::numeric_limits<double>::quiet_NaN();
  double transfer_s = 0.0; ///< PD: prefill end to KV arrival (link wait + transfer)
  double kv_bytes = 0.0;   ///< PD: KV bytes sent to the decode instance
  int preemptions = 0;     ///< times evicted from HBM and recomputed
  request_status status = request_status::pending;
  rejection_reason reason = rejection_reason::none;

  [[nodiscard]] bool completed() const noexcept { return status == request_status::completed; }
  /// Time to first token; with no output tokens, time to the end of the prefill (the request's
  /// completion); NaN before either.
  [[nodiscard]] double ttft_s() const noexcept {
    return (output_tokens == 0 ? completion_s : first_token_s) - arrival_s;
  }
  /// Time per output token after the first; NaN with fewer than two tokens.
  [[nodiscard]] double tpot_s() const noexcept {
    return output_tokens >= 2
               ? (completion_s - first_token_s) / static_cast<double>(output_tokens - 1)
               : std::numeric_limits<double>::quiet_NaN();
  }
  /// End-to-end latency.
  [[nodiscard]] double e2e_s() const noexcept { return completion_s - arrival_s; }
  /// Wait before the first prefill chunk.
  [[nodiscard]] double queue_s() const noexcept { return first_scheduled_s - arrival_s; }
};

/// Service-level objectives on TTFT and TPOT.
struct slo {
  double ttft_s = 1.0;  ///< largest acceptable time to first token (> 0)
  double tpot_s = 0.05; ///< largest acceptable time per output token (> 0)

  /// @throws config_error unless both are finite and > 0.
  void validate() const {
    check_positive("serving::slo", "ttft_s", ttft_s);
    check_positive("serving::slo", "tpot_s", tpot_s);
  }
  /// Whether a completed request met both objectives (see the file comment for NaN).
  [[nodiscard]] bool met_by(const request_record& r) const noexcept {
    if (!r.completed())
      return false;
    const double ttft = r.ttft_s(), tpot = r.tpot_s();
    return !(ttft > ttft_s) && !(tpot > tpot_s);
  }
};

/// Latency summaries of the completed requests.
struct latency_summary {
  stats::summary ttft_s;  ///< over completed requests with a first token
  stats::summary tpot_s;  ///< over completed requests with >= 2 tokens
  stats::summary e2e_s;   ///< over completed requests
  stats::summary queue_s; ///< over completed requests
};

/// Summaries of TTFT, TPOT, E2E and queueing over the completed requests.
[[nodiscard]] inline latency_summary summarize_latency(std::span<const request_record> records) {
  std::vector<double> ttft, tpot, e2e, queue;
  for (const request_record& r : records) {
    if (!r.completed())
      continue;
    if (std::isfinite(r.ttft_s()))
      ttft.push_back(r.ttft_s());
    if (std::isfinite(r.tpot_s()))
      tpot.push_back(r.tpot_s());
    e2e.push_back(r.e2e_s());
    queue.push_back(r.queue_s());
  }
  return {stats::summarize(ttft), stats::summarize(tpot), stats::summarize(e2e),
          stats::summarize(queue)};
}

/// Goodput under an SLO.
struct goodput_result {
  slo objective{};
  std::int64_t met = 0;        ///< completed requests meeting both objectives
  double attainment = 0.0;     ///< met / requests (all requests, rejected ones included)
  double requests_per_s = 0.0; ///< met / makespan
};

/// Goodput of `records` over `makespan_s`. @throws config_error for an invalid SLO or a
/// negative makespan.
[[nodiscard]] inline goodput_result goodput(std::span<const request_record> records,
                                            const slo& objective, double makespan_s) {
  objective.validate();
  check_non_negative("serving::goodput", "makespan_s", makespan_s);
  goodput_result g{.objective = objective};
  for (const request_record& r : records)
    g.met += objective.met_by(r) ? 1 : 0;
  g.attainment =
      records.empty() ? 0.0 : static_cast<double>(g.met) / static_cast<double>(records.size());
  g.requests_per_s = makespan_s > 0.0 ? static_cast<double>(g.met) / makespan_s : 0.0;
  return g;
}

/// Time average of a piecewise-constant level (requests in the system, queue length):
/// ∫ level dt / elapsed, integrated exactly at each change.
class time_average {
public:
  /// Sets the level from time `t_s` on. @throws config_error if time runs backwards.
  void set(double t_s, double level) {
    advance(t_s);
    level_ = level;
  }
  /// Adds `delta` to the level from time `t_s` on.
  void add(double t_s, double delta) { set(t_s, level_ + delta); }
  /// Integrates up to `t_s` without changing the level.
  void advance(double t_s) {
    if (t_s < last_s_)
      throw config_error("serving::time_average", "t_s",
                         fmt::format("({}) is before the last update ({})", t_s, last_s_));
    area_ += level_ * (t_s - last_s_);
    last_s_ = t_s;
  }
  [[nodiscard]] double level() const noexcept { return level_; }
  /// ∫ level dt from 0 to the last update.
  [[nodiscard]] double area() const noexcept { return area_; }
  /// Mean level over [0, t_s] (after integrating to t_s); 0 when t_s is 0.
  [[nodiscard]] double mean(double t_s) {
    advance(t_s);
    return t_s > 0.0 ? area_ / t_s : 0.0;
  }

private:
  double level_ = 0.0;
  double last_s_ = 0.0;
  double area_ = 0.0;
};

} // namespace infercost::serving
