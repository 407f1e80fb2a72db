// A program that uses infercost the way another project would.
#include <infercost/infercost.hpp>

#include <fmt/core.h>

int main() {
  using namespace infercost;
  const auto m = model::presets::deepseek_v3();
  const h800_sxm gpu;
  const op_work w{.flops = 2.0 * model::active_params(m),
                  .bytes_read = model::weight_bytes(m, precision::fp8) / 8.0,
                  .prec = precision::fp8};
  const double t = gpu.op_time_s(w);
  fmt::print("{}: one token's matrix work on {} takes {:.3f} ms\n", m.name, gpu.name(), t * 1e3);
  return t > 0.0 ? 0 : 1;
}
