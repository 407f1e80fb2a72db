/// @file
/// Umbrella header of the cost model and the simulation: devices, models, the cost faces of MoE
/// routing, attention, speculative decoding and the tiered KV cache, the step-cost engine, the
/// serving simulator, the economics, and the CSV/synthetic workload readers. It includes neither
/// Eigen nor nlohmann::json, so it stays cheap to include in every translation unit.
///
/// Opt-in headers, each included where it is needed:
/// - `infercost/numeric.hpp`: the numeric faces on real tensors (Eigen): attention forward passes,
///   the MoE router and expert layer, exact speculative sampling with toy language models;
/// - `infercost/io/mooncake_trace.hpp`: the Mooncake JSON Lines reader (nlohmann::json);
/// - `infercost/serving/report_json.hpp`: serving reports as JSON (nlohmann::json);
/// - `infercost/all.hpp`: all of the above.
#pragma once

#include "infercost/fwd.hpp"
#include "infercost/version.hpp"

// core/
#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/core/random.hpp"
#include "infercost/core/stats.hpp"
#include "infercost/core/units.hpp"

// device/
#include "infercost/device/any_device.hpp"
#include "infercost/device/ascend_npu.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/device/collectives.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/cuda_gpu.hpp"
#include "infercost/device/efficiency.hpp"
#include "infercost/device/roofline.hpp"
#include "infercost/device/summary.hpp"
#include "infercost/device/tco.hpp"
#include "infercost/device/work.hpp"

// model/
#include "infercost/engine/model_summary.hpp"
#include "infercost/model/model_config.hpp"
#include "infercost/model/presets.hpp"

// moe/ (cost face)
#include "infercost/moe/balance.hpp"
#include "infercost/moe/cost.hpp"
#include "infercost/moe/placement.hpp"
#include "infercost/moe/policies.hpp"

// attention/ (cost face)
#include "infercost/attention/attention.hpp"
#include "infercost/attention/cost.hpp"
#include "infercost/attention/policies.hpp"

// speculative/ (cost face)
#include "infercost/speculative/analytic.hpp"
#include "infercost/speculative/cost.hpp"

// kvcache/
#include "infercost/kvcache/eviction.hpp"
#include "infercost/kvcache/eviction_policy.hpp"
#include "infercost/kvcache/lfu.hpp"
#include "infercost/kvcache/lru.hpp"
#include "infercost/kvcache/prefix.hpp"
#include "infercost/kvcache/replay.hpp"
#include "infercost/kvcache/s3fifo.hpp"
#include "infercost/kvcache/sizing.hpp"
#include "infercost/kvcache/tiered_cache.hpp"
#include "infercost/kvcache/tiers.hpp"

// engine/
#include "infercost/engine/step_cost.hpp"

// serving/
#include "infercost/serving/cluster.hpp"
#include "infercost/serving/event_loop.hpp"
#include "infercost/serving/instance.hpp"
#include "infercost/serving/instance_config.hpp"
#include "infercost/serving/metrics.hpp"
#include "infercost/serving/pd_scheduler.hpp"
#include "infercost/serving/policies.hpp"
#include "infercost/serving/report.hpp"
#include "infercost/serving/views.hpp"

// econ/
#include "infercost/econ/api_prices.hpp"
#include "infercost/econ/article.hpp"
#include "infercost/econ/price_sheet.hpp"
#include "infercost/econ/tco.hpp"

// io/ (CSV and synthetic workloads)
#include "infercost/io/csv.hpp"
#include "infercost/io/workload.hpp"
#include "infercost/io/workload_types.hpp"
