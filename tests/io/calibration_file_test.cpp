#include <catch2/catch.hpp>

#include <string>

#include "infercost/core/error.hpp"
#include "infercost/io/calibration_file.hpp"

using namespace infercost;

TEST_CASE("a calibration file replaces the preset's terms it names", "[io][calibration]") {
  const std::string text = R"({"source": "fit",
    "profiles": [{"device": "h100_sxm", "engine": "trtllm", "rows": 12, "fit_rms_log": 0.25,
                  "decode_step_s": 0.0002, "prefill_step_s": 0.003,
                  "expert_gemm_efficiency": 0.625}]})";
  const engine::calibration c = io::parse_calibration(text, "cal.json");
  REQUIRE(c.entries.size() == 1);
  CHECK(c.source == "fit");
  const engine::engine_profile p = c.profile_for("h100_sxm", "trtllm");
  CHECK(p.decode_step_s == 0.0002);
  CHECK(p.prefill_step_s == 0.003);
  CHECK(p.expert_gemm_efficiency == 0.625);
  // Terms not named keep the preset's; the name stays the engine's.
  CHECK(p.launch_s == engine::profiles::trtllm().launch_s);
  CHECK(p.launches_per_layer == engine::profiles::trtllm().launches_per_layer);
  CHECK(p.name == "trtllm");
  CHECK(c.find("h100_sxm", "trtllm")->rows == 12);
  // Another pair falls back to its preset.
  CHECK(c.profile_for("h200_sxm", "vllm").decode_step_s == engine::profiles::vllm().decode_step_s);
  // Written and read back, the same numbers.
  const engine::calibration back = io::parse_calibration(io::to_json(c), "back.json");
  REQUIRE(back.entries.size() == 1);
  CHECK(back.entries[0].profile.decode_step_s == 0.0002);
  CHECK(back.entries[0].profile.launch_s == engine::profiles::trtllm().launch_s);
  CHECK(back.entries[0].fit_rms_log == 0.25);
  CHECK(back.entries[0].profile.expert_gemm_efficiency == 0.625);
  CHECK(back.source == "fit");
}

TEST_CASE("a bad calibration file names the file, line and field", "[io][calibration]") {
  CHECK_THROWS_WITH(io::parse_calibration("{\"profiles\": [\n{\"device\": }]}", "a.json"),
                    Catch::StartsWith("a.json:2:0:"));
  CHECK_THROWS_WITH(
      io::parse_calibration(
          R"({"profiles": [{"device": "h100_sxm", "engine": "trtllm", "decode_step": 1}]})",
          "b.json"),
      "b.json:0:0: profiles[0].decode_step: unknown key");
  CHECK_THROWS_WITH(
      io::parse_calibration(
          R"({"profiles": [{"device": "h100_sxm", "engine": "trtllm", "launch_s": -1}]})",
          "c.json"),
      Catch::Contains("profiles[0]: engine::profile: launch_s (-1) must be >= 0"));
  CHECK_THROWS_WITH(
      io::parse_calibration(R"({"profiles": [{"device": "h100_sxm", "engine": "trtllm",
                                              "expert_gemm_efficiency": 2}]})",
                            "f.json"),
      Catch::Contains(
          "profiles[0]: engine::profile: expert_gemm_efficiency (2) must be in (0, 1]"));
  CHECK_THROWS_WITH(
      io::parse_calibration(R"({"profiles": [{"device": "h100_sxm", "engine": "tgi"}]})", "d.json"),
      Catch::Contains("profiles[0].engine: engine::profile_of: name ('tgi')"));
  CHECK_THROWS_WITH(io::parse_calibration(R"({"profiles": {}})", "e.json"),
                    "e.json:0:0: calibration: expected an object with a \"profiles\" array");
  CHECK_THROWS_AS(io::read_calibration("/nonexistent/cal.json"), trace_error);
}

TEST_CASE("the shipped calibration holds valid fitted profiles and survives a file round trip",
          "[io][calibration]") {
  const engine::calibration c = engine::shipped_calibration();
  REQUIRE(!c.entries.empty());
  for (const engine::calibration::entry& e : c.entries) {
    CHECK_NOTHROW(e.profile.validate());
    CHECK(e.rows > 0);
    CHECK(c.profile_for(e.device, e.engine).request_s == e.profile.request_s);
    // The fit replaces the host terms, never the preset's kernel count.
    CHECK(e.profile.launches_per_layer == engine::profile_of(e.engine).launches_per_layer);
  }
  const engine::calibration back = io::parse_calibration(io::to_json(c), "shipped.json");
  REQUIRE(back.entries.size() == c.entries.size());
  for (std::size_t i = 0; i < c.entries.size(); ++i) {
    CHECK(back.entries[i].device == c.entries[i].device);
    CHECK(back.entries[i].profile.decode_step_s == c.entries[i].profile.decode_step_s);
    CHECK(back.entries[i].profile.prefill_step_s == c.entries[i].profile.prefill_step_s);
    CHECK(back.entries[i].profile.launch_s == c.entries[i].profile.launch_s);
    CHECK(back.entries[i].profile.request_s == c.entries[i].profile.request_s);
    CHECK(back.entries[i].profile.expert_gemm_efficiency ==
          c.entries[i].profile.expert_gemm_efficiency);
  }
  // A device the fit has not seen keeps the preset.
  CHECK(c.profile_for("b200", "trtllm").request_s == 0.0);
}
