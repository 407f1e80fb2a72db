// Two small models whose step times are derived by hand in the engine's and econ's tests:
// hidden 1024, 2 layers, vocab 32000 (untied), 8 heads, 2 KV heads of 128, SwiGLU FFN of 4096;
// tiny_moe has layer 0 dense (first_k_dense 1) and layer 1 an MoE of 8 SwiGLU experts of width
// 1024, top-2, one shared expert, a 1024 × 8 router. The arithmetic on them is in
// tests/engine/step_cost_test.cpp's header comment.
#pragma once

#include "infercost/model/model_config.hpp"

namespace infercost::test {

inline model::model_config tiny_dense() {
  return {.name = "tiny_dense",
          .hidden = 1024,
          .num_layers = 2,
          .vocab = 32000,
          .num_heads = 8,
          .num_kv_heads = 2,
          .head_dim = 128,
          .intermediate = 4096};
}

inline model::model_config tiny_moe() {
  model::model_config m = tiny_dense();
  m.name = "tiny_moe";
  m.first_k_dense = 1;
  m.num_experts = 8;
  m.num_shared_experts = 1;
  m.moe_intermediate = 1024;
  m.top_k = 2;
  return m;
}

} // namespace infercost::test
