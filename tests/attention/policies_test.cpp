#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "infercost/attention/policies.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::attention;

namespace {
attention_shape gqa_shape() {
  return {.num_heads = 8, .num_kv_heads = 2, .head_dim = 64, .v_head_dim = 64};
}
} // namespace

TEST_CASE("attention shapes follow the model's layout", "[attention]") {
  // Llama-3.1-70B: 64 heads, 8 KV heads of 128 -> 2*8*128 = 2048 KV elements per token.
  const attention_shape llama = attention_shape::from_model(model::presets::llama3_70b());
  CHECK(llama.kind == model::attention_kind::gqa);
  CHECK(llama.kv_elements_per_token() == 2048.0);
  CHECK_FALSE(llama.is_mha());
  CHECK(llama.decode_qk_dim() == 128);
  // DeepSeek-V3 MLA: latent 512 + rope 64 = 576 elements; decode attends over the latent as one
  // KV head with key dim 576 and value dim 512; prefill heads are 128+64 / 128.
  const attention_shape ds = attention_shape::from_model(model::presets::deepseek_v3());
  CHECK(ds.kind == model::attention_kind::mla);
  CHECK(ds.kv_elements_per_token() == 576.0);
  CHECK(ds.decode_qk_dim() == 576);
  CHECK(ds.decode_v_dim() == 512);
  CHECK(ds.decode_kv_heads() == 1);
  CHECK(ds.head_dim == 192);
  CHECK(ds.v_head_dim == 128);
  const attention_shape mha{.num_heads = 4, .num_kv_heads = 4, .head_dim = 32, .v_head_dim = 32};
  CHECK(mha.is_mha());
}

TEST_CASE("policy configs come from model presets", "[attention]") {
  const sliding_window_config w = sliding_window_config::from_model(model::presets::mistral_7b());
  CHECK(w.window == 4096);
  CHECK(w.sinks == 0);
  const topk_config t = topk_config::from_model(model::presets::deepseek_v32_exp());
  CHECK(t.index_heads == 64);
  CHECK(t.index_dim == 128);
  CHECK(t.top_k == 2048);
  CHECK_THROWS_WITH(sliding_window_config::from_model(model::presets::llama3_70b()),
                    Catch::Contains("attention::sliding_window: window (0) must be > 0"));
  CHECK_THROWS_WITH(topk_config::from_model(model::presets::deepseek_v3()),
                    Catch::Contains("attention::topk_sparse: top_k (0) must be > 0"));
}

TEST_CASE("CSA's core FLOP ratio is the article's own 21.25 percent, not its 27", "[attention]") {
  // Article 3.1.2: 10% of queries exact, 90% over K/V at 1/8 width: 0.1 + 0.9/8 = 0.2125.
  CHECK(csa_core_flop_ratio(csa_config{}) == Approx(0.2125).epsilon(1e-12));
  CHECK(csa_core_flop_ratio(csa_config{.ratio = 1.0}) == 1.0);
  CHECK(csa_core_flop_ratio(csa_config{.ratio = 0.5, .compression = 4}) == Approx(0.625));
  CHECK(article_csa_cost_ratio == 0.27);
}

TEST_CASE("bad policy numbers are rejected with clear errors", "[attention]") {
  const attention_shape s = gqa_shape();
  CHECK_THROWS_WITH(sliding_window_config{.window = 0}.validate(s),
                    "attention::sliding_window: window (0) must be > 0");
  CHECK_THROWS_WITH((sliding_window_config{.window = 8, .sinks = -1}.validate(s)),
                    "attention::sliding_window: sinks (-1) must be >= 0");
  CHECK_THROWS_WITH(csa_config{.ratio = 0.0}.validate(s),
                    "attention::csa: ratio (0) must be in (0, 1]");
  CHECK_THROWS_WITH(csa_config{.ratio = 1.5}.validate(s),
                    "attention::csa: ratio (1.5) must be in (0, 1]");
  CHECK_THROWS_WITH(csa_config{.ratio = std::numeric_limits<double>::quiet_NaN()}.validate(s),
                    "attention::csa: ratio (nan) must be finite");
  CHECK_THROWS_WITH(csa_config{.compression = 3}.validate(s),
                    "attention::csa: compression (3) must divide head_dim (64)");
  CHECK_THROWS_WITH(csa_config{.compression = 0}.validate(s),
                    "attention::csa: compression (0) must be > 0");
  CHECK_THROWS_WITH(topk_config{.top_k = 0}.validate(s),
                    "attention::topk_sparse: top_k (0) must be > 0");
  CHECK_THROWS_WITH(topk_config{.top_k = -5}.validate(s),
                    "attention::topk_sparse: top_k (-5) must be > 0");
  CHECK_THROWS_WITH(topk_config{.index_heads = 0}.validate(s),
                    "attention::topk_sparse: index_heads (0) must be > 0");
  CHECK_NOTHROW(csa_config{}.validate(s));
  CHECK_NOTHROW(full_config{}.validate(s));
}

TEST_CASE("bad attention shapes are rejected", "[attention]") {
  attention_shape s = gqa_shape();
  s.num_kv_heads = 3;
  CHECK_THROWS_WITH(s.validate(), "attention::attention_shape: num_kv_heads (3) must divide "
                                  "num_heads (8)");
  s = gqa_shape();
  s.head_dim = 0;
  CHECK_THROWS_WITH(s.validate(), "attention::attention_shape: head_dim (0) must be > 0");
  attention_shape m = attention_shape::from_model(model::presets::deepseek_v3());
  m.head_dim = 100;
  CHECK_THROWS_WITH(m.validate(), Catch::Contains("head_dim (100) must equal qk_nope_head_dim"));
  // MLA with CSA: the factor must also divide the latent dims (576, 512).
  const attention_shape ds = attention_shape::from_model(model::presets::deepseek_v3());
  CHECK_NOTHROW(csa_config{.compression = 8}.validate(ds));
  CHECK_THROWS_WITH(csa_config{.compression = 128}.validate(ds),
                    "attention::csa: compression (128) must divide head_dim (192)");
}
