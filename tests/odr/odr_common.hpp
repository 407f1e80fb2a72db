// What odr_a.cpp and odr_b.cpp each instantiate: a small simulation on any_device, its JSON
// report, and an attention forward pass. Returns a positive number when everything ran.
#pragma once

#include <cstdint>

#include <infercost/all.hpp>

namespace infercost::odr {

inline double exercise(std::uint64_t seed) {
  const io::workload w = io::synthetic_workload({.requests = 8}, seed);
  serving::basic_cluster<any_device> c(model::presets::llama3_8b(),
                                       {.colocated = {.layout = {.devices = 1, .tp = 1}}}, {},
                                       make_device("h100_sxm"));
  const serving::report r = c.run(w, seed);
  const attention::head_layout l{.num_heads = 2, .num_kv_heads = 1, .head_dim = 8, .v_head_dim = 8};
  const attention::matrix o =
      attention::full_forward(l, attention::make_qkv({.tokens = 16, .layout = l, .seed = seed}));
  return static_cast<double>(r.completed) * static_cast<double>(serving::to_json(r).size()) *
         static_cast<double>(o.rows());
}

} // namespace infercost::odr
