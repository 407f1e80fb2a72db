#include <catch2/catch.hpp>

#include <cmath>

#include "infercost/device/catalog.hpp"
#include "infercost/kvcache/tiers.hpp"
#include "infercost/model/presets.hpp"

using namespace infercost;
using namespace infercost::kvcache;

TEST_CASE("block bytes follow the attention footprint", "[kvcache][tiers]") {
  // DeepSeek-V3 MLA: (kv_lora 512 + rope 64) elements x 2 bytes x 61 layers = 70,272 B/token.
  const deployment d{.block_tokens = 512};
  CHECK(block_bytes(model::presets::deepseek_v3(), d) == Approx(70272.0 * 512));
  // Llama-3-70B GQA: 2 x 8 KV heads x 128 x 2 bytes x 80 layers = 327,680 B/token; FP8 halves it.
  CHECK(block_bytes(model::presets::llama3_70b(), d) == Approx(327680.0 * 512));
  deployment fp8 = d;
  fp8.kv_precision = precision::fp8;
  CHECK(block_bytes(model::presets::llama3_70b(), fp8) == Approx(163840.0 * 512));
  // Mistral-7B: every layer slides over 4,096 tokens; 2 x 8 x 128 x 2 = 4,096 B per token-layer.
  // Over a 12,035-token prompt a token costs 4096 * 4096 * 32 / 12035 bytes.
  const double swa = 4096.0 * 4096.0 * 32.0 / 12035.0 * 512.0;
  CHECK(block_bytes(model::presets::mistral_7b(), d) == Approx(swa));
  deployment short_ctx = d;
  short_ctx.reference_context = 2048; // inside the window: full footprint
  CHECK(block_bytes(model::presets::mistral_7b(), short_ctx) == Approx(4096.0 * 32 * 512));
}

TEST_CASE("HBM for KV is memory minus weights and reserve, times the fraction",
          "[kvcache][tiers]") {
  const h200_sxm dev;
  const auto m = model::presets::deepseek_v3();
  const deployment d{.devices = 8, .weight_precision = precision::fp8};
  const double w = model::weight_bytes(m, precision::fp8) / 8.0;
  const double expect = (141.0 * units::gib - w - 8.0 * units::gib) * 0.9;
  const double got = hbm_kv_bytes_per_device(dev, m, d);
  REQUIRE(std::isfinite(got));
  CHECK(got == Approx(expect));
  CHECK(got > 0.0);
  const tier_bytes t = instance_tier_bytes(dev, m, d, host_config{});
  CHECK(t.hbm == Approx(8.0 * expect));
  CHECK(t.dram == Approx(2.0e12 * 0.75));    // the whole node's DRAM share
  CHECK(t.ssd == Approx(8 * 3.84e12 * 0.9)); // all 8 drives
}

TEST_CASE("sizing rejects weights that do not fit and bad host numbers", "[kvcache][tiers]") {
  const h100_sxm dev;
  const deployment one{.devices = 1};
  CHECK_THROWS_AS(hbm_kv_bytes_per_device(dev, model::presets::deepseek_v3(), one), config_error);
  host_config h;
  h.ssd_kv_fraction = 1.5;
  CHECK_THROWS_WITH(h.validate(), "kvcache::host_config: ssd_kv_fraction (1.5) must be in [0, 1]");
  deployment bad;
  bad.block_tokens = 0;
  CHECK_THROWS_WITH(bad.validate(), "kvcache::deployment: block_tokens (0) must be > 0");
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
