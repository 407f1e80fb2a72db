/// @file
/// The serving simulation's event queue: events ordered by time, then by the order in which they
/// were scheduled (a sequence number), so that simultaneous events always run in the same order
/// and a run is reproducible bit for bit. A binary heap: O(log n) per push and pop.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <queue>
#include <vector>

#include "infercost/core/error.hpp"

namespace infercost::serving {

/// What an event does when it fires.
enum class event_kind : std::uint8_t {
  arrival,      ///< a request arrives at the cluster
  step_end,     ///< an instance finishes a forward pass
  transfer_end, ///< a request's KV cache has reached its decode instance
};

/// One scheduled event.
struct event {
  double time_s = 0.0;   ///< when it fires, simulated seconds
  std::uint64_t seq = 0; ///< scheduling order; breaks ties in time
  event_kind kind = event_kind::arrival;
  std::int32_t instance = -1; ///< the instance it concerns, or -1
  std::int64_t request = -1;  ///< the request it concerns, or -1
};

/// A deterministic priority queue of events: pop() returns the earliest, and of simultaneous
/// events the one scheduled first. Time never runs backwards: scheduling before the time of the
/// last popped event is an error.
class event_queue {
public:
  /// Schedules an event and returns its sequence number.
  /// @throws config_error if `time_s` is not finite or is before now().
  std::uint64_t push(double time_s, event_kind kind, std::int32_t instance_index = -1,
                     std::int64_t request = -1) {
    if (!std::isfinite(time_s))
      throw config_error("serving::event_queue", "time_s",
                         fmt::format("({}) must be finite", time_s));
    if (time_s < now_)
      throw config_error("serving::event_queue", "time_s",
                         fmt::format("({}) is before the current time ({})", time_s, now_));
    const std::uint64_t s = next_seq_++;
    heap_.push(event{
        .time_s = time_s, .seq = s, .kind = kind, .instance = instance_index, .request = request});
    return s;
  }

  /// Removes and returns the earliest event and advances now() to its time.
  /// @throws config_error if the queue is empty.
  event pop() {
    if (heap_.empty())
      throw config_error("serving::event_queue", "pop", "(empty queue) has no event");
    const event e = heap_.top();
    heap_.pop();
    now_ = e.time_s;
    ++popped_;
    return e;
  }

  /// The earliest event, without removing it. Requires !empty().
  [[nodiscard]] const event& top() const { return heap_.top(); }
  /// Time of the earliest event, or +infinity when empty.
  [[nodiscard]] double next_time_s() const noexcept {
    return heap_.empty() ? std::numeric_limits<double>::infinity() : heap_.top().time_s;
  }
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  /// Time of the last popped event (0 before the first).
  [[nodiscard]] double now() const noexcept { return now_; }
  /// Events popped so far.
  [[nodiscard]] std::uint64_t popped() const noexcept { return popped_; }
  /// Advances now() without an event (to an arrival taken from a sorted stream).
  /// @throws config_error if `time_s` is before now().
  void advance_to(double time_s) {
    if (!(time_s >= now_))
      throw config_error("serving::event_queue", "time_s",
                         fmt::format("({}) is before the current time ({})", time_s, now_));
    now_ = time_s;
  }

private:
  struct later {
    bool operator()(const event& a, const event& b) const noexcept {
      return a.time_s != b.time_s ? a.time_s > b.time_s : a.seq > b.seq;
    }
  };
  std::priority_queue<event, std::vector<event>, later> heap_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t popped_ = 0;
  double now_ = 0.0;
};

} // namespace infercost::serving
