/// @file
/// What the serving policies see (serving/policies.hpp, concepts in infercost/concepts.hpp): a
/// request, an instance as a balancer candidate, a pool's load, a KV transfer.
#pragma once

#include <cstdint>

namespace infercost::serving {

/// A request as policies see it.
struct request_view {
  std::int64_t id = 0;            ///< position in the workload (arrival order)
  double arrival_s = 0.0;         ///< arrival, seconds from the start of the workload
  std::int64_t input_tokens = 0;  ///< prompt tokens
  std::int64_t output_tokens = 0; ///< tokens to generate
  std::int64_t requeued = 0;      ///< 0; k when it went back to its queue by the k-th preemption
};

/// What a balancer sees of one instance.
struct candidate {
  std::int64_t load = 0;          ///< requests assigned and not yet gone
  std::int64_t queued_tokens = 0; ///< prompt tokens waiting to be prefilled
  std::int64_t cached_tokens = 0; ///< prompt tokens of this request it caches (when asked)
};

/// The load of a pool, for PD admission.
struct pool_load {
  double instances = 0.0;             ///< instances in the pool
  double requests = 0.0;              ///< requests assigned and not yet gone
  double queued_prefill_tokens = 0.0; ///< prompt tokens waiting to be prefilled
};

/// A KV transfer from a prefill instance to a decode instance.
struct transfer_view {
  double transfer_s = 0.0; ///< the whole prompt's KV over an idle link
  double prefill_s = 0.0;  ///< how long the prompt's prefill ran (first chunk to last)
  int layers = 1;          ///< the model's layers
};

} // namespace infercost::serving
