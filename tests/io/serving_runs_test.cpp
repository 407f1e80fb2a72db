#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

#include "../data.hpp"
#include "infercost/io/serving_runs.hpp"

using infercost::trace_error;
using infercost::io::csv_table;
using infercost::io::serving_runs;

namespace {
const std::string header =
    "id,silicon_data_source,backend,backend_version,model_path,system,precision,mode,isl,osl,"
    "gemm_quant_mode,moe_quant_mode,batch_size,tp_size,pp_size,attention_dp_size,moe_tp_size,"
    "moe_ep_size,prefill_batch_size,prefill_num_workers,prefill_tp_size,prefill_pp_size,"
    "prefill_attention_dp_size,prefill_moe_tp_size,prefill_moe_ep_size,decode_batch_size,"
    "decode_num_workers,decode_tp_size,decode_pp_size,decode_attention_dp_size,decode_moe_tp_size,"
    "decode_moe_ep_size,silicon_ttft_ms,silicon_tpot_ms\n";
// An agg row (DP attention, quoted source with a comma) and a disagg row, as in the shipped file.
const std::string agg_row =
    "a1,\"img; concurrency=64, x\",trtllm,1.1,deepseek-ai/DeepSeek-V3,h200_sxm,fp8,agg,1024,2048,"
    "fp8,fp8_block,8,1,1,8,1,8,,,,,,,,,,,,,,,120.5,9.25\n";
const std::string disagg_row = "d1,,sglang,,Qwen/Qwen3-32B,h100_sxm,,disagg,8192,1024,,,,,,,,,"
                               "1,2,8,1,1,8,1,32,1,1,1,8,1,8,2000,40\n";
} // namespace

TEST_CASE("serving runs keep every column and leave empty cells unset", "[io][serving_runs]") {
  const auto runs = serving_runs(csv_table(header + agg_row + disagg_row, "runs.csv"));
  REQUIRE(runs.size() == 2);
  const auto& a = runs[0];
  CHECK(a.id == "a1");
  CHECK(a.silicon_data_source == "img; concurrency=64, x");
  CHECK(a.backend == "trtllm");
  CHECK(a.backend_version == "1.1");
  CHECK(a.model_path == "deepseek-ai/DeepSeek-V3");
  CHECK(a.system == "h200_sxm");
  CHECK(a.precision == "fp8");
  CHECK_FALSE(a.disaggregated());
  CHECK(a.isl == 1024);
  CHECK(a.osl == 2048);
  CHECK(a.gemm_quant_mode == "fp8");
  CHECK(a.moe_quant_mode == "fp8_block");
  CHECK(a.agg.batch_size == 8);
  CHECK(a.agg.tp_size == 1);
  CHECK(a.agg.pp_size == 1);
  CHECK(a.agg.attention_dp_size == 8);
  CHECK(a.agg.moe_tp_size == 1);
  CHECK(a.agg.moe_ep_size == 8);
  CHECK_FALSE(a.agg.num_workers.has_value());
  CHECK_FALSE(a.prefill.tp_size.has_value());
  CHECK_FALSE(a.decode.batch_size.has_value());
  CHECK(a.ttft_ms == 120.5);
  CHECK(a.tpot_ms == 9.25);
  CHECK(a.line == 2);

  const auto& d = runs[1];
  CHECK(d.disaggregated());
  CHECK_FALSE(d.silicon_data_source.has_value());
  CHECK_FALSE(d.backend_version.has_value());
  CHECK_FALSE(d.precision.has_value());
  CHECK_FALSE(d.gemm_quant_mode.has_value());
  CHECK_FALSE(d.agg.batch_size.has_value());
  CHECK(d.prefill.batch_size == 1);
  CHECK(d.prefill.num_workers == 2);
  CHECK(d.prefill.tp_size == 8);
  CHECK(d.prefill.moe_tp_size == 8);
  CHECK(d.decode.batch_size == 32);
  CHECK(d.decode.num_workers == 1);
  CHECK(d.decode.attention_dp_size == 8);
  CHECK(d.decode.moe_ep_size == 8);
  CHECK(d.ttft_ms == 2000.0);
  CHECK(d.line == 3);
}

TEST_CASE("serving run errors name file, line, column and value", "[io][serving_runs]") {
  auto read = [](const std::string& row) { return serving_runs(csv_table(header + row, "r.csv")); };
  // mode is the 8th field; its column is where the field starts.
  CHECK_THROWS_WITH(read("x,,trtllm,,m,h100_sxm,,mixed,1,1,,,1,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n"),
                    "r.csv:2:24: column 'mode': 'mixed' must be agg or disagg");
  CHECK_THROWS_WITH(read("x,,trtllm,,m,h100_sxm,,agg,0,1,,,1,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n"),
                    "r.csv:2:28: column 'isl': '0' must be a positive integer");
  CHECK_THROWS_WITH(read("x,,trtllm,,m,h100_sxm,,agg,1,1,,,2.5,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n"),
                    "r.csv:2:34: column 'batch_size': '2.5' is not a non-negative integer");
  CHECK_THROWS_WITH(read("x,,trtllm,,m,h100_sxm,,agg,1,1,,,1,-1,1,1,1,1,,,,,,,,,,,,,,,1,1\n"),
                    "r.csv:2:36: column 'tp_size': '-1' is not a non-negative integer");
  CHECK_THROWS_WITH(read(",,trtllm,,m,h100_sxm,,agg,1,1,,,1,1,1,1,1,1,,,,,,,,,,,,,,,1,1\n"),
                    "r.csv:2:1: column 'id': empty, a value is required");
  CHECK_THROWS_WITH(read("x,,trtllm,,m,h100_sxm,,agg,1,1,,,1,1,1,1,1,1,,,,,,,,,,,,,,,abc,1\n"),
                    "r.csv:2:60: column 'silicon_ttft_ms': 'abc' is not a finite number");
  CHECK_THROWS_WITH(read("x,,trtllm,,m,h100_sxm,,agg,1,1,,,1,1,1,1,1,1,,,,,,,,,,,,,,,1,0\n"),
                    "r.csv:2:62: column 'silicon_tpot_ms': '0' must be > 0");
  CHECK_THROWS_WITH(serving_runs(csv_table("id,backend\nx,y\n", "h.csv")),
                    "h.csv:1:0: missing column 'silicon_data_source'");
  CHECK_THROWS_AS(infercost::io::read_serving_runs("/nonexistent/runs.csv"), trace_error);
}

TEST_CASE("the shipped silicon sample holds 1,884 runs of three engines on two systems",
          "[io][serving_runs][data]") {
  const auto path = infercost::test::data_file("aiconfigurator/silicon_h100_h200.csv");
  if (!path)
    return;
  const auto runs = infercost::io::read_serving_runs(*path);
  REQUIRE(runs.size() == 1884);
  std::set<std::string> backends, systems, ids;
  std::size_t disagg = 0;
  for (const auto& r : runs) {
    backends.insert(r.backend);
    systems.insert(r.system);
    ids.insert(r.id);
    disagg += r.disaggregated() ? 1 : 0;
    CHECK(std::isfinite(r.ttft_ms));
    CHECK(std::isfinite(r.tpot_ms));
  }
  CHECK(backends == std::set<std::string>{"sglang", "trtllm", "vllm"});
  CHECK(systems == std::set<std::string>{"h100_sxm", "h200_sxm"});
  CHECK(ids.size() == 1884); // ids are unique
  CHECK(disagg == 291);      // counted with awk over the `mode` column
}
