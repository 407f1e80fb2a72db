/// @file
/// Closed-loop clients: the arrival process of serving benchmarks (`vllm bench serve
/// --max-concurrency`, genai-perf and AIPerf `--concurrency`), in which N clients each send their
/// next request when their previous one ends, optionally after a think time, and the first and
/// last requests are left out of the statistics (warm-up and cool-down).
///
/// A closed loop is an arrival process driven by completions, not a second simulator:
/// `basic_cluster::run(lengths, closed_loop, seed)` (serving/cluster.hpp) runs the same event
/// loop, scheduler and instances as an open-loop replay, with arrivals taken from here instead of
/// from the workload's timestamps.
///
/// Requests are issued in order, request k being the workload's request k mod size (its lengths
/// and block hashes; its arrival time is ignored). Client k of N sends its first request at
/// k · ramp_up_s / N (all at time 0 by default). A client whose request completes or is rejected at
/// t sends its next one at t + think time; completions and rejections are handled in time order, so
/// a first-in first-out queue holds the clients waiting to send again, beside the queue of clients
/// not started yet.
///
/// A request rate caps the sends as `vllm bench serve --request-rate R --max-concurrency N` does
/// (vLLM `vllm/benchmarks/serve.py`, `get_request` and `limited_request_func`): the benchmark
/// creates request k at the k-th instant of a gamma renewal process (shape = burstiness, mean gap
/// 1/R; burstiness 1 is Poisson), rescaled so that the last of the n requests is created at n/R,
/// and a semaphore of N slots holds it until a slot frees. Request k is therefore sent at the later
/// of its creation and its client's readiness, and its latencies count from that send (the
/// benchmark starts its clock inside the semaphore).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/io/workload_types.hpp"
#include "infercost/serving/metrics.hpp"

namespace infercost::serving {

/// N clients, each sending its next request when its previous one completes (or is rejected).
struct closed_loop {
  int clients = 1;           ///< requests in flight (the benchmark's concurrency)
  std::int64_t requests = 0; ///< requests issued in all; 0: as many as the workload has
  std::int64_t warmup = 0;   ///< the first `warmup` requests issued are left out of the statistics
  std::int64_t cooldown = 0; ///< the last `cooldown` requests issued are left out of the statistics
  double think_time_s = 0.0; ///< between a completion and the client's next request
  /// Clients start evenly spread over this time instead of all at once. With fixed lengths, N
  /// clients started together stay in lockstep (they are prefilled in the same steps and finish
  /// together), which no measured benchmark keeps for long: network and tokeniser jitter spread
  /// their phases. A ramp as long as one request's latency starts them spread as a measured
  /// steady state is.
  double ramp_up_s = 0.0;
  /// Requests sent per second at most (the benchmark's `--request-rate`; see the file comment);
  /// 0: no cap, each client sends as soon as it is ready.
  double request_rate = 0.0;
  /// Shape of the gamma distribution of the gaps between request creations under a request rate
  /// (`--burstiness`): 1 is a Poisson process, smaller is burstier, larger more regular.
  double burstiness = 1.0;

  /// @throws config_error naming the field: clients < 1, a negative count, a negative or
  /// non-finite think time, ramp or request rate, a burstiness that is not positive, or (when
  /// `requests` is set) warm-up and cool-down leaving no request measured.
  void validate() const {
    constexpr std::string_view c = "serving::closed_loop";
    check_positive(c, "clients", clients);
    check_non_negative(c, "requests", requests);
    check_non_negative(c, "warmup", warmup);
    check_non_negative(c, "cooldown", cooldown);
    check_non_negative(c, "think_time_s", think_time_s);
    check_non_negative(c, "ramp_up_s", ramp_up_s);
    check_non_negative(c, "request_rate", request_rate);
    check_positive(c, "burstiness", burstiness);
    if (requests > 0)
      check_measured(requests);
  }

  /// Requests issued for a workload of `workload_size` requests.
  [[nodiscard]] std::int64_t issued(std::size_t workload_size) const noexcept {
    return requests > 0 ? requests : static_cast<std::int64_t>(workload_size);
  }

  /// @throws config_error unless warm-up and cool-down leave at least one of `n` requests.
  void check_measured(std::int64_t n) const {
    if (warmup + cooldown >= n)
      throw config_error("serving::closed_loop", "warmup",
                         fmt::format("({}) + cooldown ({}) must leave at least one of the {} "
                                     "requests issued measured",
                                     warmup, cooldown, n));
  }
};

namespace detail {

/// The requests a closed loop issues: `n` requests with the lengths and block hashes of `lengths`
/// taken in order and cycled, ids 0..n−1, arrivals 0 until issued. @throws config_error for an
/// empty workload or bad lengths (the message names the request).
[[nodiscard]] inline io::workload closed_loop_requests(const io::workload& lengths,
                                                       std::int64_t n) {
  if (lengths.empty())
    throw config_error("io::workload", "requests",
                       fmt::format("(0) of '{}' must not be empty", lengths.name));
  io::workload w;
  w.name = lengths.name;
  w.block_tokens = lengths.block_tokens;
  w.requests.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const io::workload_request& q =
        lengths.requests[static_cast<std::size_t>(i) % lengths.requests.size()];
    w.requests.push_back({.id = i,
                          .arrival_s = 0.0,
                          .input_tokens = q.input_tokens,
                          .output_tokens = q.output_tokens,
                          .block_hashes = q.block_hashes});
  }
  w.validate();
  return w;
}

/// The arrival process of a closed loop (see the file comment): which request is issued next and
/// when. It writes each request's issue time into the workload and its record as it is issued.
class client_arrivals {
public:
  /// @param w       the requests (closed_loop_requests), updated as they are issued
  /// @param records one per request, updated as they are issued
  /// @param r       draws the request creation times under a request rate
  client_arrivals(io::workload& w, std::vector<request_record>& records, const closed_loop& c,
                  rng r)
      : w_(&w), records_(&records), think_s_(c.think_time_s),
        created_(creation_times(w.size(), c, r)) {
    const auto first = std::min<std::size_t>(static_cast<std::size_t>(c.clients), w.size());
    for (std::size_t k = 0; k < first; ++k)
      starting_.push_back(c.ramp_up_s * static_cast<double>(k) / static_cast<double>(c.clients));
  }

  /// When each of `n` requests is created under `c`'s request rate (see the file comment); empty
  /// when there is no rate.
  [[nodiscard]] static std::vector<double> creation_times(std::size_t n, const closed_loop& c,
                                                          rng r) {
    std::vector<double> t;
    if (c.request_rate <= 0.0 || n == 0)
      return t;
    t.reserve(n);
    double sum = 0.0;
    for (std::size_t k = 0; k < n; ++k)
      t.push_back(sum += r.gamma(c.burstiness, 1.0 / (c.request_rate * c.burstiness)));
    const double scale = static_cast<double>(n) / c.request_rate / sum;
    for (double& x : t)
      x *= scale;
    return t;
  }

  /// Whether a request remains to be issued.
  [[nodiscard]] bool pending() const noexcept {
    return next_ < w_->size() && !(starting_.empty() && ready_.empty());
  }
  /// When the next request is issued (pending() must hold).
  [[nodiscard]] double next_time_s() const noexcept {
    const double ready = starting_first() ? starting_.front() : ready_.front();
    return created_.empty() ? ready : std::max(ready, created_[next_]);
  }
  /// Issues the next request at `now` and returns its id.
  std::int64_t take(double now) {
    (starting_first() ? starting_ : ready_).pop_front();
    w_->requests[next_].arrival_s = now;
    (*records_)[next_].arrival_s = now;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    return static_cast<std::int64_t>(next_++);
  }
  /// `count` requests completed or were rejected at `now`: their clients send again after the
  /// think time.
  void finished(double now, std::size_t count) {
    in_flight_ -= static_cast<std::int64_t>(count);
    for (std::size_t k = 0; k < count; ++k)
      ready_.push_back(now + think_s_);
  }
  /// Requests to issue in all.
  [[nodiscard]] std::size_t total() const noexcept { return w_->size(); }
  /// The most requests issued and not yet finished at any time.
  [[nodiscard]] std::int64_t max_in_flight() const noexcept { return max_in_flight_; }

private:
  io::workload* w_;
  std::vector<request_record>* records_;
  double think_s_;
  std::vector<double> created_; ///< each request's creation time under a rate; empty: no rate
  /// Whether the next send is a client's first (the earlier of the two queues' fronts).
  [[nodiscard]] bool starting_first() const noexcept {
    return ready_.empty() || (!starting_.empty() && starting_.front() <= ready_.front());
  }

  std::deque<double> starting_; ///< first sends of clients not started yet, in order
  std::deque<double> ready_;    ///< when each client that has finished sends again, in order
  std::size_t next_ = 0;
  std::int64_t in_flight_ = 0;
  std::int64_t max_in_flight_ = 0;
};

/// The arrival process of an open-loop replay: the workload's requests at their timestamps.
class trace_arrivals {
public:
  explicit trace_arrivals(const io::workload& w) : w_(&w) {}
  [[nodiscard]] bool pending() const noexcept { return next_ < w_->size(); }
  [[nodiscard]] double next_time_s() const noexcept { return w_->requests[next_].arrival_s; }
  std::int64_t take(double) { return static_cast<std::int64_t>(next_++); }
  void finished(double, std::size_t) noexcept {}
  [[nodiscard]] std::size_t total() const noexcept { return w_->size(); }

private:
  const io::workload* w_;
  std::size_t next_ = 0;
};

} // namespace detail

} // namespace infercost::serving
