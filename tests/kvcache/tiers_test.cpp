#include <catch2/catch.hpp>

#include <cmath>

#include "infercost/device/catalog.hpp"
#include "infercost/kvcache/sizing.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::kvcache;

TEST_CASE("block bytes follow the attention footprint", "[kvcache][tiers]") {
  const h200_sxm dev;
  // DeepSeek-V3 MLA: (kv_lora 512 + rope 64) elements x 2 bytes x 61 layers = 70,272 B/token.
  const deployment d{.block_tokens = 512};
  CHECK(block_bytes(dev, model::presets::deepseek_v3(), d) == Approx(70272.0 * 512));
  // Llama-3-70B GQA: 2 x 8 KV heads x 128 x 2 bytes x 80 layers = 327,680 B/token; FP8 halves it.
  CHECK(block_bytes(dev, model::presets::llama3_70b(), d) == Approx(327680.0 * 512));
  deployment fp8 = d;
  fp8.layout.kv_prec = precision::fp8;
  CHECK(block_bytes(dev, model::presets::llama3_70b(), fp8) == Approx(163840.0 * 512));
  // Mistral-7B: every layer slides over 4,096 tokens; 2 x 8 x 128 x 2 = 4,096 B per token-layer.
  // Over a 12,035-token prompt a token costs 4096 * 4096 * 32 / 12035 bytes.
  const double swa = 4096.0 * 4096.0 * 32.0 / 12035.0 * 512.0;
  CHECK(block_bytes(dev, model::presets::mistral_7b(), d) == Approx(swa));
  deployment short_ctx = d;
  short_ctx.reference_context = 2048; // inside the window: full footprint
  CHECK(block_bytes(dev, model::presets::mistral_7b(), short_ctx) == Approx(4096.0 * 32 * 512));
}

TEST_CASE("HBM for KV is what the layout leaves after weights and the reserve",
          "[kvcache][tiers]") {
  const h200_sxm dev;
  const double usable = 141.0 * units::gib * 0.9; // 10% activation reserve
  // Llama-3-70B BF16 on 2 devices, TP 2: each holds half the weights and half of every token's
  // KV heads, so the two devices hold 2 x usable - all weights of whole-token KV.
  const auto llama = model::presets::llama3_70b();
  deployment tp2{.layout = {.devices = 2, .tp = 2}};
  const double w = model::weight_bytes(llama, precision::bf16);
  CHECK(hbm_kv_bytes(deployment_engine(dev, llama, tp2), 0.10) == Approx(2.0 * usable - w));
  const tier_bytes t = instance_tier_bytes(dev, llama, tp2, host_config{});
  CHECK(t.hbm == Approx(2.0 * usable - w));
  CHECK(t.dram == Approx(2.0e12 * 0.75 * 2 / 8)); // 2 of the node's 8 devices' share
  CHECK(t.ssd == Approx(8 * 3.84e12 * 0.9 * 2 / 8));

  // DeepSeek-V3 FP8 on 8 devices with data-parallel attention and EP 8: every device holds the
  // attention, dense FFN, embeddings, router and shared expert whole, and 256/8 routed experts;
  // each holds its own sequences' latent, so the 8 groups add.
  const auto ds = model::presets::deepseek_v3();
  deployment dp{
      .layout = {
          .devices = 8, .tp = 1, .dp_attention = true, .ep = 8, .weight_prec = precision::fp8}};
  const model::param_counts p = model::count_params(ds);
  const double per_device = p.attention + p.dense_ffn + p.embedding + p.router + p.shared_experts +
                            p.routed_experts / 8.0; // FP8: one byte per parameter
  const double dp_hbm = 8.0 * (usable - per_device);
  CHECK(hbm_kv_bytes(deployment_engine(dev, ds, dp), 0.10) == Approx(dp_hbm));
  // Tensor-parallel over the same 8 devices replicates the latent: one group's worth of tokens.
  deployment tp8{.layout = {.devices = 8, .tp = 8, .weight_prec = precision::fp8}};
  const double tp_hbm = usable - model::weight_bytes(ds, precision::fp8) / 8.0;
  CHECK(hbm_kv_bytes(deployment_engine(dev, ds, tp8), 0.10) == Approx(tp_hbm));

  // The cache config holds the same bytes, in blocks of the same size.
  const cache_config c = make_cache_config(dev, ds, dp);
  CHECK(c.hbm_bytes == Approx(dp_hbm));
  CHECK(c.block_bytes == Approx(70272.0 * 512));
  CHECK(c.devices == 8);
}

TEST_CASE("sizing rejects weights that do not fit and bad host numbers", "[kvcache][tiers]") {
  const h100_sxm dev;
  const auto ds = model::presets::deepseek_v3();
  const deployment one{.layout = {.devices = 1, .tp = 1}};
  CHECK_THROWS_AS(make_cache_config(dev, ds, one), config_error);
  host_config h;
  h.ssd_kv_fraction = 1.5;
  CHECK_THROWS_WITH(h.validate(), "kvcache::host_config: ssd_kv_fraction (1.5) must be in [0, 1]");
  deployment bad;
  bad.block_tokens = 0;
  CHECK_THROWS_WITH(bad.validate(ds), "kvcache::deployment: block_tokens (0) must be > 0");
  deployment reserve;
  reserve.activation_reserve = 0.95;
  CHECK_THROWS_WITH(reserve.validate(ds),
                    "kvcache::deployment: activation_reserve (0.95) must be in [0, 0.9]");
  deployment layout;
  layout.layout.tp = 3;
  CHECK_THROWS_AS(block_bytes(dev, ds, layout), config_error);
  CHECK(to_string(tier::dram) == "dram");
}

TEST_CASE("an instance's host share counts the device's own devices per host unless given",
          "[kvcache][tiers]") {
  // 16 H800s span two 8-GPU hosts (the device's devices_per_node): 2 × 2 TB × 0.75 of DRAM,
  // 2 × 8 drives × 3.84 TB × 0.9 of SSD, 16 drives.
  h800_sxm dev;
  const host_share s = instance_host_share(dev, host_config{}, 16);
  CHECK(s.dram_bytes == Approx(2 * 2.0e12 * 0.75));
  CHECK(s.ssd_bytes == Approx(16 * 3.84e12 * 0.9));
  CHECK(s.ssd_drives == 16.0);
  // A 4-device host: four hosts' worth. A device whose node holds 16: one host's.
  CHECK(instance_host_share(dev, host_config{.devices_per_node = 4}, 16).ssd_drives == 32.0);
  dev.set_devices_per_node(16);
  CHECK(instance_host_share(dev, host_config{}, 16).dram_bytes == Approx(2.0e12 * 0.75));
  CHECK_THROWS_WITH(instance_host_share(dev, host_config{}, 0),
                    "kvcache::host_config: devices (0) must be > 0");
}
