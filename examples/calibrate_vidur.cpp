// Calibration check: predicts the per-operator times Vidur measured for Llama-2-7B and 70B layers
// on A100 and H100 (microsoft/vidur data/profiling, MIT; copies in shared/data/vidur_profiles)
// with infercost's roofline device models, and prints the error per op.
//
// Usage: calibrate_vidur [DATA_DIR] [--min-ms 0.1]
#include <infercost/core/stats.hpp>
#include <infercost/device/catalog.hpp>
#include <infercost/io/csv.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>

namespace {
using namespace infercost;

/// Work of one Vidur-profiled operator for `t` tokens of a Llama layer sharded over `tp` GPUs.
/// Shapes follow Vidur's mlp profiler: QKV projection, output projection, gated up projection
/// (gate and up fused), down projection, SiLU-and-multiply, RMSNorms, residual add, rotary.
struct layer_shape {
  double hidden, heads, kv_heads, ffn, tp;
};

std::map<std::string, op_work> vidur_ops(const layer_shape& s, double t) {
  const double b = 2.0; // FP16 activations and weights
  const double hd = s.hidden / s.heads;
  const double qkv = (s.heads + 2 * s.kv_heads) * hd / s.tp;
  const double ffn = s.ffn / s.tp;
  auto gemm = [&](double k, double n) {
    return op_work{.flops = 2 * t * k * n,
                   .bytes_read = (k * n + t * k) * b,
                   .bytes_written = t * n * b,
                   .prec = precision::fp16,
                   .kind = op_kind::gemm};
  };
  auto eltwise = [&](double elems_in, double elems_out, double flops_per_elem) {
    return op_work{.vector_flops = elems_out * flops_per_elem,
                   .bytes_read = elems_in * b,
                   .bytes_written = elems_out * b,
                   .prec = precision::fp16,
                   .kind = op_kind::elementwise};
  };
  std::map<std::string, op_work> ops;
  ops["attn_pre_proj"] = gemm(s.hidden, qkv);
  ops["attn_post_proj"] = gemm(s.heads * hd / s.tp, s.hidden);
  ops["mlp_up_proj"] = gemm(s.hidden, 2 * ffn);
  ops["mlp_down_proj"] = gemm(ffn, s.hidden);
  ops["mlp_act"] = eltwise(2 * t * ffn, t * ffn, 6);               // silu(g) * u
  ops["input_layernorm"] = eltwise(t * s.hidden, t * s.hidden, 5); // RMSNorm
  ops["post_attention_layernorm"] = ops["input_layernorm"];
  ops["add"] = eltwise(2 * t * s.hidden, t * s.hidden, 1);
  ops["attn_rope"] = eltwise(t * (s.heads + s.kv_heads) * hd / s.tp, // q and k rotated
                             t * (s.heads + s.kv_heads) * hd / s.tp, 3);
  return ops;
}

struct result {
  std::string op;
  double measured_ms, predicted_ms;
};

template <class Device> std::vector<result> predict_file(const Device& d, const std::string& path) {
  const auto table = io::csv_table::read(path);
  const auto c_hidden = table.column("n_embd"), c_heads = table.column("n_head"),
             c_kv = table.column("n_kv_head"), c_ffn = table.column("n_expanded_embd"),
             c_tokens = table.column("num_tokens"),
             c_tp = table.column("num_tensor_parallel_workers");
  std::vector<result> out;
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const layer_shape s{table.number(r, c_hidden), table.number(r, c_heads), table.number(r, c_kv),
                        table.number(r, c_ffn), table.number(r, c_tp)};
    const double t = table.number(r, c_tokens);
    for (const auto& [op, w] : vidur_ops(s, t)) {
      const std::string col = "time_stats." + op + ".median";
      if (!table.has_column(col))
        continue;
      out.push_back({op, table.number(r, table.column(col)), d.op_time_s(w) * 1e3});
    }
  }
  return out;
}

void report(const std::string& label, const std::vector<result>& rows, double min_ms,
            std::vector<double>& all_errors) {
  std::map<std::string, std::vector<double>> err, signed_err;
  for (const auto& r : rows) {
    if (r.measured_ms < min_ms)
      continue;
    const double e = (r.predicted_ms - r.measured_ms) / r.measured_ms;
    err[r.op].push_back(std::abs(e));
    signed_err[r.op].push_back(e);
    all_errors.push_back(std::abs(e));
  }
  for (const auto& [op, e] : err)
    fmt::print("{:<24} {:<26} {:>6} {:>10.1f}% {:>10.1f}% {:>+10.1f}%\n", label, op, e.size(),
               100 * stats::percentile(e, 50), 100 * stats::percentile(e, 90),
               100 * stats::percentile(signed_err[op], 50));
}
} // namespace

int main(int argc, char** argv) {
  std::string dir = std::string(INFERCOST_DATA_DIR) + "/vidur_profiles";
  double min_ms = 0.1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--min-ms" && i + 1 < argc)
      min_ms = std::atof(argv[++i]);
    else
      dir = a;
  }
  if (!std::filesystem::exists(dir)) {
    fmt::print(stderr, "calibrate_vidur: {} not found; pass the vidur_profiles folder\n", dir);
    return 2;
  }
  try {
    fmt::print("Roofline prediction of Vidur's measured operator times (ops >= {} ms)\n\n", min_ms);
    fmt::print("{:<24} {:<26} {:>6} {:>11} {:>11} {:>11}\n", "profile", "op", "rows", "median|err|",
               "p90 |err|", "median err");
    std::vector<double> all;
    const a100_sxm a100;
    const h100_sxm h100;
    for (const char* m : {"Llama-2-7b-hf", "Llama-2-70b-hf"}) {
      const std::string suffix = std::string("_meta-llama_") + m + "_mlp.csv";
      report(fmt::format("a100 {}", m), predict_file(a100, dir + "/compute_a100" + suffix), min_ms,
             all);
      report(fmt::format("h100 {}", m), predict_file(h100, dir + "/compute_h100" + suffix), min_ms,
             all);
    }
    fmt::print("\nAll ops >= {} ms: {} rows, median |error| {:.1f}%, p90 {:.1f}%\n", min_ms,
               all.size(), 100 * stats::percentile(all, 50), 100 * stats::percentile(all, 90));
  } catch (const error& e) {
    fmt::print(stderr, "calibrate_vidur: {}\n", e.what());
    return 1;
  }
}
