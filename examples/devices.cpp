// Prints infercost's device catalog: dense peaks, memory, ridge point, links and $/hour.
#include <infercost/device/summary.hpp>

#include <fmt/core.h>

#include <string_view>

int main() {
  using namespace infercost;
  fmt::print("infercost device catalog (dense peaks; sources in "
             "include/infercost/device/catalog.hpp)\n\n");
  constexpr std::string_view row =
      "{:<15} {:<10} {:>7} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {:>8} {:>5} {:>7} {:>6}  {}\n";
  fmt::print(row, "device", "family", "BF16", "FP8", "INT8", "HBM", "HBM", "ridge", "scale-up",
             "scale-out", "TDP", "price", "$/h", "serves");
  fmt::print(row, "", "", "TFLOPS", "TFLOPS", "TOPS", "GiB", "TB/s", "F/B", "GB/s", "GB/s", "W",
             "k$", "TCO", "");
  for (const auto& d : catalog_summary())
    fmt::print(
        "{:<15} {:<10} {:>7.0f} {:>7.0f} {:>7.0f} {:>6.0f} {:>7.2f} {:>6.0f} {:>8.0f} {:>8.0f} "
        "{:>5.0f} {:>7.1f} {:>6.2f}  {}\n",
        d.name, d.family, d.bf16_flops / 1e12, d.fp8_flops / 1e12, d.int8_flops / 1e12,
        d.memory_bytes / units::gib, d.memory_bytes_per_s / 1e12, d.ridge_bf16,
        d.scale_up_bytes_per_s / 1e9, d.scale_out_bytes_per_s / 1e9, d.tdp_w, d.price_usd / 1e3,
        d.usd_per_hour, d.serving_precision);
  fmt::print("\nFP8 is 0 where a chip has no FP8 units (Ascend 910B/910C, A100): asking for FP8 "
             "there is an error;\nthose parts serve INT8 W8A8 (Ascend) or BF16 (A100), as "
             "'serves' says.\n"
             "Scale-up: NVLink per GPU per direction; HCCS per NPU per direction over 7 links.\n"
             "$/h: purchase + 35% server + 10% network, 5%/yr maintenance, 4 years, power at "
             "70% of TDP, PUE 1.3, $0.10/kWh.\n"
             "Rental reference: DeepSeek accounts H800 at ${:.2f}/GPU-hour.\n",
             deepseek_h800_usd_per_hour);
}
