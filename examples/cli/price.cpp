// `infercost price`: what a million tokens cost when a model is served on a simulated cluster,
// per device, beside public API prices, and the waterfall of the levers that bring the cost down
// (dense → MoE → sparse attention → PD disaggregation → tiered prefix cache → MTP speculative
// decoding → device choice), each step a full serving simulation of the same workload on the
// same number of devices.
#include "commands.hpp"
#include "plot.hpp"

#include <infercost/attention/policies.hpp>
#include <infercost/device/any_device.hpp>
#include <infercost/device/catalog.hpp>
#include <infercost/device/tco.hpp>
#include <infercost/econ/api_prices.hpp>
#include <infercost/econ/price_sheet.hpp>
#include <infercost/econ/tco.hpp>
#include <infercost/io/mooncake_trace.hpp>
#include <infercost/io/workload.hpp>
#include <infercost/kvcache/replay.hpp>
#include <infercost/kvcache/tiered_cache.hpp>
#include <infercost/model/presets.hpp>
#include <infercost/plan/planner.hpp>
#include <infercost/serving/cluster.hpp>

#include <fmt/core.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace infercost::cli {
namespace {

constexpr std::string_view area = "cli::price";

struct price_options {
  std::string model = "deepseek_v3";
  std::string dense_model = "llama3_405b";
  std::vector<std::string> devices{"ascend_910b", "h800_sxm", "h200_sxm"};
  std::string waterfall_device = "h800_sxm";
  std::string prefill_device; ///< with decode_device: one more row, a heterogeneous PD deployment
  std::string decode_device;
  std::string trace = INFERCOST_EXAMPLES_DIR "/data/mooncake_conversation_2000.jsonl";
  std::string format = "mooncake";
  long long max_requests = 0;
  double time_scale = 1.0;
  int devices_total = 32;
  int devices_per_node = 0; ///< 0: the device's own
  int instance_devices = 16;
  int dense_tp = 8;
  int prefill_devices = 16;
  long long pd_threshold = 4096;
  long long max_batched_tokens = 2048;
  std::string precision; ///< empty: each device's serving precision (serving_precision)
  std::string kv_precision = "bf16";
  std::vector<std::string> levers{"moe", "sparse", "pd", "cache", "mtp"};
  /// Flags that set the fixed layout: given without --as-given they would be ignored.
  std::vector<CLI::Option*> as_given_only;
  bool no_moe = false;
  bool no_sparse = false;
  bool no_pd = false;
  bool no_cache = false;
  bool no_mtp = false;
  double cache_hbm_fraction = 0.2;
  double acceptance = 0.85;
  int mtp_tokens = 1;
  std::vector<std::string> usd_per_hour;
  double cny_per_usd = econ::article_cny_per_usd;
  double margin = 0.0;
  bool as_given = false; ///< price the flags' fixed layout instead of the planned one
  double slo_ttft_s = 2.0;
  double slo_tpot_s = 0.05;
  double quantile = 0.9;
  std::string engine = "none";
  std::string calibration;
  int threads = 0;
  unsigned long long seed = 1;
  bool json = false;
  std::string csv;
  std::string plot_dir;
};

/// Which levers a simulation uses.
struct lever_set {
  bool moe = false;
  bool sparse = false;
  bool pd = false;
  bool cache = false;
  bool mtp = false;
};

/// One simulated configuration and what it cost.
struct run_result {
  std::string step;   ///< waterfall step name or device name
  std::string device; ///< catalog device, or "prefill→decode" for a heterogeneous deployment
  std::string model;  ///< model preset simulated
  std::string layout; ///< one-line layout description
  double usd_per_hour = 0.0; ///< per device-hour (blended over pools)
  int devices = 0;           ///< devices of the deployment
  /// Planned rows: whether the deployment meets the objectives; one that no deployment in its
  /// space meets is priced at the nearest one found, and `miss` says by how much.
  bool meets = true;
  std::string miss;
  bool capped = false; ///< planned: the search stopped at its finalist cap (plan::result::capped)
  std::string rate_source;
  serving::report rep;
  econ::price_sheet sheet;
  double usd_per_mtok_out = 0.0; ///< all busy device time / output tokens
  double usd_per_mtok_all = 0.0; ///< all busy device time / (input + output tokens)
};

lever_set enabled_levers(const price_options& o) {
  lever_set l;
  for (const std::string& name : o.levers) {
    if (name == "moe")
      l.moe = true;
    else if (name == "sparse")
      l.sparse = true;
    else if (name == "pd")
      l.pd = true;
    else if (name == "cache")
      l.cache = true;
    else if (name == "mtp")
      l.mtp = true;
    else if (name != "none")
      throw config_error(area, "levers",
                         fmt::format("('{}') must be moe, sparse, pd, cache, mtp or none", name));
  }
  l.moe = l.moe && !o.no_moe;
  l.sparse = l.sparse && !o.no_sparse;
  l.pd = l.pd && !o.no_pd;
  l.cache = l.cache && !o.no_cache;
  l.mtp = l.mtp && !o.no_mtp;
  return l;
}

io::workload load_workload(const price_options& o) {
  io::workload w;
  if (o.format == "mooncake")
    w = io::read_mooncake_workload(o.trace);
  else if (o.format == "azure")
    w = io::read_azure_workload(o.trace);
  else
    throw config_error(area, "format", fmt::format("('{}') must be mooncake or azure", o.format));
  check_non_negative(area, "max-requests", o.max_requests); // 0: all
  if (o.max_requests > 0)
    w = io::take(std::move(w), static_cast<std::size_t>(o.max_requests));
  if (o.time_scale != 1.0)
    w = io::scale_time(std::move(w), o.time_scale);
  return w;
}

/// The model a lever set serves: the dense model without MoE; with DSA, the model's
/// DeepSeek-V3.2-Exp variant (the same weights plus the lightning indexer) for deepseek_v3.
model::model_config model_of(const price_options& o, const lever_set& l) {
  if (!l.moe)
    return model::presets::find(o.dense_model);
  if (l.sparse && o.model == "deepseek_v3")
    return model::presets::deepseek_v32_exp();
  return cli::model_of(o.model);
}

/// A layout of `devices` devices: dense models tensor-parallel, MoE models DP attention + EP.
engine::parallel_layout layout_of(const price_options& o, const model::model_config& m, int devices,
                                  bool mtp, const any_device& device) {
  const precision p =
      o.precision.empty() ? serving_precision(device) : parse_precision(o.precision);
  return {.devices = devices,
          .tp = m.is_moe() ? 1 : devices,
          .dp_attention = m.is_moe(),
          .ep = m.is_moe() ? devices : 1,
          .weight_prec = p,
          .attention_prec = engine::attention_precision_for(p),
          .kv_prec = parse_precision(o.kv_precision),
          .dispatch_prec = p,
          .combine_prec = precision::bf16,
          .mtp_draft = mtp};
}

struct planned {
  model::model_config model;
  serving::cluster_config config;
  std::string layout;
};

planned plan(const price_options& o, const lever_set& l, const any_device& device,
             const any_device& decode_device) {
  const model::model_config m = model_of(o, l);
  const int per = m.is_moe() ? o.instance_devices : o.dense_tp;
  // The flag that set `per`, for messages: MoE instances take --instance-devices, dense ones
  // --dense-tp.
  const std::string_view per_flag = m.is_moe() ? "instance-devices" : "dense-tp";
  check_positive(area, "devices-total", o.devices_total);
  check_positive(area, per_flag, per);
  if (l.mtp && m.mtp_layers <= 0)
    throw config_error(area, "levers",
                       fmt::format("(mtp) needs a model with an MTP module; '{}' has none "
                                   "(use --no-mtp)",
                                   m.name));
  const engine::parallel_layout lay = layout_of(o, m, per, l.mtp, device);
  const std::string par =
      m.is_moe() ? fmt::format("DP attention + EP{}", per) : fmt::format("TP{}", per);
  serving::cluster_config c{
      .colocated = {.instances = 1,
                    .layout = lay,
                    .scheduler = {.max_batched_tokens = o.max_batched_tokens}},
      .decode = {.instances = 1,
                 .layout = layout_of(o, m, per, l.mtp, decode_device),
                 .scheduler = {.max_batched_tokens = o.max_batched_tokens}},
      .cache = {.enabled = l.cache, .hbm_fraction = o.cache_hbm_fraction},
      .speculative = {.gamma = l.mtp ? o.mtp_tokens : 0, .alpha = o.acceptance}};
  std::string layout;
  if (l.pd) {
    check_divides(area, per_flag, per, "prefill-devices", o.prefill_devices);
    check_divides(area, per_flag, per, "devices-total", o.devices_total);
    const int p = o.prefill_devices / per;
    const int d = (o.devices_total - o.prefill_devices) / per;
    if (d <= 0)
      throw config_error(area, "prefill-devices",
                         fmt::format("({}) must leave decode devices out of {}", o.prefill_devices,
                                     o.devices_total));
    c.mode = serving::serving_mode::pd;
    c.prefill.instances = p;
    c.prefill.layout = lay;
    c.decode.instances = d;
    layout =
        fmt::format("PD: {} prefill + {} decode instance(s) of {} devices, {}", p, d, per, par);
  } else {
    check_divides(area, per_flag, per, "devices-total", o.devices_total);
    c.colocated.instances = o.devices_total / per;
    layout =
        fmt::format("colocated: {} instance(s) of {} devices, {}", c.colocated.instances, per, par);
  }
  const precision wp = lay.weight_prec;
  const precision dp = c.decode.layout.weight_prec;
  layout += wp == dp || !l.pd
                ? fmt::format(", {} weights", to_string(wp))
                : fmt::format(", {} prefill / {} decode weights", to_string(wp), to_string(dp));
  if (l.sparse)
    layout += m.index_topk > 0 ? fmt::format(", DSA top-{}", m.index_topk) : ", DSA top-2048";
  if (l.cache)
    layout += fmt::format(", prefix cache HBM {:.0f}%+DRAM+SSD", 100.0 * o.cache_hbm_fraction);
  if (l.mtp)
    layout += fmt::format(", MTP {} token(s) α={}", o.mtp_tokens, o.acceptance);
  return {m, c, layout};
}

template <class Attention>
serving::report simulate(const planned& p, const typename Attention::config& a,
                         const any_device& device, const any_device& decode_device,
                         const io::workload& w, std::uint64_t seed, std::int64_t pd_threshold) {
  serving::policy_values<serving::runtime_policies> policies;
  policies.admission = serving::length_threshold{.threshold_tokens = pd_threshold};
  serving::basic_cluster<any_device, serving::with_attention<Attention, serving::runtime_policies>>
      cluster(p.model, p.config, a, device, decode_device,
              {.balancer = policies.balancer,
               .admission = policies.admission,
               .batching = policies.batching,
               .transfer = policies.transfer});
  return cluster.run(w, seed);
}

/// Each pool's device time at its own device's rate: instances of the prefill role (and colocated
/// ones) at `prefill_rate`, decode instances at `decode_rate`.
std::vector<econ::pool_time> pool_times(const serving::report& r, double prefill_rate,
                                        double decode_rate) {
  std::vector<econ::pool_time> pools{{.usd_per_device_hour = prefill_rate},
                                     {.usd_per_device_hour = decode_rate}};
  for (const serving::instance_report& i : r.instances) {
    econ::pool_time& p = pools[i.role == serving::instance_role::decode ? 1 : 0];
    p.prefill_device_s += i.stats.prefill_device_s;
    p.cache_load_device_s += i.stats.cache_load_device_s;
    p.decode_device_s += i.stats.decode_device_s;
  }
  return pools;
}

/// The configuration of lever set `l` with its prefill (or colocated) pool on `device` and its
/// decode pool on `decode_device` (the same device when empty), simulated and priced.
run_result run_config(const price_options& o, const lever_set& l, const std::string& device,
                      const std::string& decode_device, const io::workload& w, std::string step) {
  const any_device d = device_of(device, o.devices_per_node);
  const any_device dd =
      device_of(decode_device.empty() ? device : decode_device, o.devices_per_node);
  const planned p = plan(o, l, d, dd);
  const bool hetero = !decode_device.empty() && decode_device != device;
  run_result r;
  r.step = std::move(step);
  r.device = hetero ? fmt::format("{}→{}", device, decode_device) : device;
  r.model = p.model.name;
  r.layout = p.layout;
  std::tie(r.usd_per_hour, r.rate_source) = device_rate(area, o.usd_per_hour, device);
  double decode_rate = r.usd_per_hour;
  if (hetero) {
    std::string decode_source;
    std::tie(decode_rate, decode_source) = device_rate(area, o.usd_per_hour, decode_device);
    r.rate_source =
        fmt::format("prefill {} ${:.2f}/h: {}; decode {} ${:.2f}/h: {}", device, r.usd_per_hour,
                    r.rate_source, decode_device, decode_rate, decode_source);
  }
  if (l.sparse) {
    const attention::topk_config a = p.model.index_topk > 0
                                         ? attention::topk_config::from_model(p.model)
                                         : attention::topk_config{};
    r.rep = simulate<attention::topk_sparse>(p, a, d, dd, w, o.seed, o.pd_threshold);
  } else {
    r.rep = simulate<attention::full>(p, {}, d, dd, w, o.seed, o.pd_threshold);
  }
  const serving::usage& u = r.rep.use;
  if (r.rep.completed == 0 || u.output_tokens <= 0)
    throw config_error(area, "workload",
                       fmt::format("('{}') completed no request on {} ({} rejected)", w.name,
                                   r.device, r.rep.rejected));
  if (hetero) {
    const std::vector<econ::pool_time> pools = pool_times(r.rep, r.usd_per_hour, decode_rate);
    r.sheet = econ::make_price_sheet(u, pools, o.margin);
    r.usd_per_hour = r.sheet.usd_per_device_hour; // blended over the busy time
  } else {
    r.sheet = econ::make_price_sheet(
        u, {.usd_per_device_hour = r.usd_per_hour, .gross_margin = o.margin});
  }
  const double busy_usd =
      hetero ? r.sheet.total_cost_usd() / (1.0 - o.margin)
             : u.busy_device_s() / units::hour_s * r.usd_per_hour / (1.0 - o.margin);
  r.usd_per_mtok_out = busy_usd / static_cast<double>(u.output_tokens) * units::mega;
  r.usd_per_mtok_all =
      busy_usd / static_cast<double>(u.output_tokens + u.input_hit_tokens + u.input_miss_tokens) *
      units::mega;
  r.devices = o.devices_total;
  return r;
}

/// The planner's search space for lever set `l` over `devices`: colocated deployments always,
/// PD ones with the pd lever, MTP depths 0 and --mtp-tokens with the mtp lever, a prefix cache
/// or not with the cache lever; each device at its serving precision (or --precision).
plan::search_space space_for(const price_options& o, const lever_set& l,
                             const std::vector<std::string>& devices) {
  plan::search_space s;
  for (const std::string& name : devices)
    s.devices.push_back(
        device_offer_of(area, name, o.usd_per_hour, o.precision, o.devices_per_node));
  s.colocated = true;
  s.pd = l.pd;
  s.max_batched_tokens = {o.max_batched_tokens};
  s.mtp_tokens = l.mtp ? std::vector<int>{0, o.mtp_tokens} : std::vector<int>{0};
  s.mtp_acceptance = o.acceptance;
  s.prefix_cache = l.cache ? std::vector<bool>{false, true} : std::vector<bool>{false};
  s.cache_hbm_fraction = o.cache_hbm_fraction;
  s.kv_precision = parse_precision(o.kv_precision);
  s.threads = o.threads;
  s.seed = o.seed;
  s.engine_profile = engine_profiles(o.engine, o.calibration, s.devices.front().device);
  return s;
}

/// The cheapest deployment in space `s` meeting the objectives, simulated and priced at its
/// operating point (all device time, idle included).
template <class Attention>
run_result planned_run(const price_options& o, plan::search_space s, const model::model_config& m,
                       const typename Attention::config& a, const io::workload& w,
                       std::string step) {
  const plan::objectives goals{
      .ttft_s = o.slo_ttft_s, .tpot_s = o.slo_tpot_s, .quantile = o.quantile};
  const plan::basic_planner<Attention> planner(m, s, goals, w, a);
  const plan::result found = planner.search();
  std::string names;
  for (const plan::device_offer& d : s.devices)
    names += (names.empty() ? "" : ",") + std::string(d.device.name());
  if (!found.best && !found.closest)
    throw config_error(
        area, "slo-ttft-s",
        fmt::format("({} s, with TPOT {} ms at p{:.0f}): no deployment of {} on {} completes the "
                    "workload ({} candidates, {} simulated); relax them or use --as-given",
                    o.slo_ttft_s, 1e3 * o.slo_tpot_s, 100 * o.quantile, m.name, names,
                    found.candidates, found.simulated_candidates));
  const plan::evaluation& chosen = found.best ? *found.best : *found.closest;
  const plan::deployment& d = chosen.d;
  run_result r;
  r.capped = found.capped;
  if (!found.best) {
    r.meets = false;
    r.miss = fmt::format("no deployment of {} on {} meets the objectives; the nearest reaches "
                         "TTFT p{:.0f} {:.2f} s and TPOT {:.1f} ms",
                         m.name, names, 100 * o.quantile, chosen.ttft_s, 1e3 * chosen.tpot_s);
  }
  r.step = std::move(step);
  const std::string_view entry = s.devices[d.entry.device].device.name();
  const std::string_view decode =
      s.devices[d.pd() ? d.decode.device : d.entry.device].device.name();
  r.device = entry == decode ? std::string(entry) : fmt::format("{}→{}", entry, decode);
  r.model = m.name;
  r.layout = plan::describe(s, d);
  r.devices = d.devices();
  r.rate_source = s.devices[d.entry.device].rate_source;
  if (entry != decode)
    r.rate_source += "; " + s.devices[d.decode.device].rate_source;
  r.rep = planner.simulate(d);
  r.sheet = plan::operating_point_sheet(s, d, r.rep, o.margin);
  r.usd_per_hour = chosen.usd_per_hour / d.devices();
  const serving::usage& u = r.rep.use;
  const double usd = r.sheet.total_cost_usd() / (1.0 - o.margin);
  r.usd_per_mtok_out = usd / static_cast<double>(u.output_tokens) * units::mega;
  r.usd_per_mtok_all =
      usd / static_cast<double>(u.output_tokens + u.input_hit_tokens + u.input_miss_tokens) *
      units::mega;
  return r;
}

/// planned_run for lever set `l` on `devices`, with the model and attention the levers choose.
run_result planned_config(const price_options& o, const lever_set& l,
                          const std::vector<std::string>& devices, const io::workload& w,
                          std::string step, std::optional<std::size_t> prefill_on = std::nullopt,
                          std::optional<std::size_t> decode_on = std::nullopt) {
  const model::model_config m = model_of(o, l);
  if (l.mtp && m.mtp_layers <= 0)
    throw config_error(area, "levers",
                       fmt::format("(mtp) needs a model with an MTP module; '{}' has none "
                                   "(use --no-mtp)",
                                   m.name));
  plan::search_space s = space_for(o, l, devices);
  if (prefill_on || decode_on) {
    s.colocated = false;
    s.prefill_on = prefill_on;
    s.decode_on = decode_on;
  }
  if (l.sparse) {
    const attention::topk_config a =
        m.index_topk > 0 ? attention::topk_config::from_model(m) : attention::topk_config{};
    return planned_run<attention::topk_sparse>(o, std::move(s), m, a, w, std::move(step));
  }
  return planned_run<attention::full>(o, std::move(s), m, {}, w, std::move(step));
}

/// The quantile of `s` the objectives use (--quantile).
double objective_at(const price_options& o, const stats::summary& s) {
  return o.quantile == 0.5 ? s.p50 : o.quantile == 0.99 ? s.p99 : s.p90;
}

std::string opt(const std::optional<double>& v, int width, int prec = 3) {
  return v ? fmt::format("{:>{}.{}f}", *v, width, prec) : fmt::format("{:>{}}", "n/a", width);
}

/// One line of the waterfall.
struct step_result {
  run_result run;
  double factor = 1.0; ///< previous metric / this metric
};

struct hit_point {
  double capacity_gb = 0.0;
  double hit_rate = 0.0;
};

/// Block hit rate of the trace against one HBM-only cache of each capacity (kvcache replays).
std::vector<hit_point> hit_rate_curve(const price_options& o, const model::model_config& m) {
  std::vector<hit_point> out;
  if (o.format != "mooncake")
    return out;
  std::vector<io::workload_request> trace = io::read_mooncake_workload(o.trace).requests;
  if (o.max_requests > 0 && trace.size() > static_cast<std::size_t>(o.max_requests))
    trace.resize(static_cast<std::size_t>(o.max_requests));
  const precision kv = parse_precision(o.kv_precision);
  const double block = model::kv_bytes_per_sequence(m, io::mooncake_block_tokens, kv);
  for (const double gb : {4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0}) {
    kvcache::basic_tiered_cache<any_device> cache(
        {.hbm_bytes = gb * 1e9, .dram_bytes = 0.0, .ssd_bytes = 0.0, .block_bytes = block});
    const kvcache::replay_report r =
        kvcache::replay(cache, trace, {.model = m, .kv_precision = kv});
    out.push_back({gb, r.block_hit_rate()});
  }
  return out;
}

void plot(const price_options& o, const std::vector<step_result>& steps, const run_result& final,
          const std::vector<hit_point>& hits) {
  const std::optional<std::filesystem::path> opened = open_plot_dir("price", area, o.plot_dir);
  if (!opened)
    return;
  const std::filesystem::path& dir = *opened;
  std::string wf;
  for (std::size_t i = 0; i < steps.size(); ++i)
    wf += fmt::format("{} \"{}\" {}\n", i, steps[i].run.step, steps[i].run.usd_per_mtok_out);
  write_plot_file(area, dir / "waterfall.dat", wf);
  std::vector<double> ttft, tpot;
  for (const serving::request_record& q : final.rep.requests) {
    if (q.completed() && std::isfinite(q.ttft_s()))
      ttft.push_back(q.ttft_s());
    if (q.completed() && std::isfinite(q.tpot_s()))
      tpot.push_back(q.tpot_s() * 1e3);
  }
  const auto cdf = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i)
      s += fmt::format("{} {}\n", v[i], static_cast<double>(i + 1) / static_cast<double>(v.size()));
    return s;
  };
  write_plot_file(area, dir / "ttft.dat", cdf(ttft));
  write_plot_file(area, dir / "tpot.dat", cdf(tpot));
  std::string hr;
  for (const hit_point& h : hits)
    hr += fmt::format("{} {}\n", h.capacity_gb, 100.0 * h.hit_rate);
  write_plot_file(area, dir / "hit_rate.dat", hr);
  const std::string title = fmt::format("{} on {} x {}", final.model, final.devices, final.device);
  std::string gp = "set terminal pngcairo size 900,540 noenhanced\n";
  gp += "set output 'waterfall.png'\nset title '$ per million output tokens (busy device time), "
        "each lever simulated'\nset style fill solid 0.7\nset boxwidth 0.6\nset logscale y\n"
        "set xtics rotate by -25\nset ylabel 'USD / M output tokens'\nunset key\n"
        "plot 'waterfall.dat' using 1:3:xtic(2) with boxes, '' using 1:3:(sprintf('%.2f',$3)) "
        "with labels offset 0,1\n";
  gp += "unset logscale y\nset xtics norotate\n";
  gp += fmt::format("set output 'latency_cdf.png'\nset multiplot layout 1,2 title '{}'\n"
                    "set key bottom right\nset ylabel 'share of requests'\n"
                    "set title 'TTFT'\nset xlabel 's'\nplot 'ttft.dat' using 1:2 with lines "
                    "title 'TTFT'\nset title 'TPOT'\nset xlabel 'ms'\nplot 'tpot.dat' using "
                    "1:2 with lines title 'TPOT'\nunset multiplot\n",
                    title);
  if (!hits.empty())
    gp += fmt::format("set output 'hit_rate.png'\nset title 'Prefix-cache block hit rate vs "
                      "capacity ({}, LRU, kvcache replay)'\nset logscale x 2\nset xlabel "
                      "'cache capacity (GB)'\nset ylabel 'block hit rate (%)'\nset yrange [0:100]\n"
                      "unset key\nplot 'hit_rate.dat' using 1:2 with linespoints\n",
                      final.model);
  run_gnuplot(area, dir, "plots.gp", gp);
  fmt::print(stderr, "infercost price: wrote waterfall.png, latency_cdf.png{} to {}\n",
             hits.empty() ? "" : ", hit_rate.png", o.plot_dir);
}

nlohmann::json to_json(const run_result& r) {
  const auto j = [](const std::optional<double>& v) -> nlohmann::json {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  const econ::token_prices p = r.sheet.usd_per_mtok();
  const serving::usage& u = r.rep.use;
  return {{"step", r.step},
          {"device", r.device},
          {"model", r.model},
          {"layout", r.layout},
          {"meets_objectives", r.meets},
          {"usd_per_device_hour", r.usd_per_hour},
          {"devices_total", r.devices},
          {"usd_per_hour", r.usd_per_hour * r.devices},
          {"rate_source", r.rate_source},
          {"usd_per_mtok_input_hit", j(p.input_hit)},
          {"usd_per_mtok_input_miss", j(p.input_miss)},
          {"usd_per_mtok_output", j(p.output)},
          {"usd_per_mtok_output_all_busy", r.usd_per_mtok_out},
          {"usd_per_mtok_all_tokens", r.usd_per_mtok_all},
          {"busy_device_s", u.busy_device_s()},
          {"idle_device_s", u.idle_device_s},
          {"input_hit_tokens", u.input_hit_tokens},
          {"input_miss_tokens", u.input_miss_tokens},
          {"output_tokens", u.output_tokens},
          {"completed", r.rep.completed},
          {"rejected", r.rep.rejected},
          {"ttft_p50_s", r.rep.latency.ttft_s.p50},
          {"tpot_p50_s", r.rep.latency.tpot_s.p50},
          {"ttft_p90_s", r.rep.latency.ttft_s.p90},
          {"tpot_p90_s", r.rep.latency.tpot_s.p90}};
}

int run_price(const price_options& o) {
  if (!o.as_given)
    for (const CLI::Option* f : o.as_given_only)
      if (f->count() > 0)
        throw config_error(area, f->get_name().substr(2),
                           fmt::format("({}) sets the fixed layout of --as-given; planned rows "
                                       "choose their own (see infercost plan)",
                                       f->as<std::string>()));
  std::optional<std::ofstream> csv_file;
  if (!o.csv.empty())
    csv_file = open_output(area, "csv", o.csv);
  check_positive(area, "cny-per-usd", o.cny_per_usd);
  if (!(o.margin >= 0.0 && o.margin < 1.0))
    throw config_error(area, "margin", fmt::format("({}) must be in [0, 1)", o.margin));
  if (o.devices.empty())
    throw config_error(area, "devices", "(none) needs at least one device");
  const lever_set all = enabled_levers(o);
  // Unknown device names fail here, listing the valid ones.
  for (const std::string& d : o.devices)
    (void)make_device(d);
  (void)make_device(o.waterfall_device);
  // Every --usd-per-hour entry must name a device that is priced: a rate for another is a typo.
  for (const std::string& kv : o.usd_per_hour) {
    const std::string name = parse_rate(area, kv).first;
    bool priced = false;
    for (const std::string& d : o.devices)
      priced = priced || make_device(d).name() == name;
    for (const std::string* d : {&o.prefill_device, &o.decode_device, &o.waterfall_device})
      priced = priced || (!d->empty() && make_device(*d).name() == name);
    if (!priced)
      throw config_error(area, "usd-per-hour",
                         fmt::format("('{}') names {}, which is not priced (--devices {})", kv,
                                     name, fmt::join(o.devices, ",")));
  }
  if (o.prefill_device.empty() != o.decode_device.empty())
    throw config_error(area, o.prefill_device.empty() ? "prefill-device" : "decode-device",
                       "(unset) is needed with the other: a heterogeneous deployment names both");
  if (!o.prefill_device.empty()) {
    (void)make_device(o.prefill_device);
    (void)make_device(o.decode_device);
    if (!all.pd)
      throw config_error(area, "prefill-device",
                         "(set) needs the pd lever: a colocated pool has one device type");
  }
  const io::workload w = load_workload(o);

  // A configuration: the flags' fixed layout (--as-given), or the cheapest deployment meeting the
  // objectives (planned; the same lever set on the same devices is planned once).
  std::map<std::string, run_result> planned_runs;
  const auto run = [&](const lever_set& l, const std::vector<std::string>& devices,
                       std::string name, std::optional<std::size_t> prefill_on = std::nullopt,
                       std::optional<std::size_t> decode_on = std::nullopt) {
    if (o.as_given) {
      const std::string& first = devices.at(prefill_on.value_or(0));
      const std::string& second = devices.at(decode_on.value_or(prefill_on.value_or(0)));
      return run_config(o, l, first, second, w, std::move(name));
    }
    const std::string key =
        fmt::format("{}{}{}{}{} {} {} {}", l.moe, l.sparse, l.pd, l.cache, l.mtp,
                    fmt::join(devices, ","), prefill_on.value_or(99), decode_on.value_or(99));
    auto it = planned_runs.find(key);
    if (it == planned_runs.end())
      it = planned_runs.emplace(key, planned_config(o, l, devices, w, name, prefill_on, decode_on))
               .first;
    run_result r = it->second;
    r.step = std::move(name);
    return r;
  };

  // 1. The full lever set on every device.
  std::vector<run_result> per_device;
  for (const std::string& d : o.devices)
    per_device.push_back(run(all, {d}, d));
  if (!o.prefill_device.empty())
    per_device.push_back(run(all, {o.prefill_device, o.decode_device},
                             fmt::format("{}→{}", o.prefill_device, o.decode_device), 0, 1));

  // 2. The waterfall on one device, each step adding one lever.
  std::vector<step_result> steps;
  const auto add = [&](const lever_set& l, std::string name) {
    step_result s{run(l, {o.waterfall_device}, std::move(name))};
    if (!steps.empty())
      s.factor = steps.back().run.usd_per_mtok_out / s.run.usd_per_mtok_out;
    steps.push_back(std::move(s));
  };
  lever_set l;
  add(l, "dense");
  if (all.moe)
    add(l = {.moe = true}, "+ MoE");
  if (all.sparse) {
    l.sparse = true;
    add(l, "+ sparse attention");
  }
  if (all.pd) {
    l.pd = true;
    add(l, "+ PD disaggregation");
  }
  if (all.cache) {
    l.cache = true;
    add(l, "+ tiered KV cache");
  }
  if (all.mtp) {
    l.mtp = true;
    add(l, "+ MTP speculation");
  }
  // Device choice: as given, the cheapest device's row; planned, one plan over every device
  // (PD pools may then take different ones).
  const auto cheapest = std::min_element(per_device.begin(), per_device.end(),
                                         [](const run_result& a, const run_result& b) {
                                           return a.usd_per_mtok_out < b.usd_per_mtok_out;
                                         });
  {
    step_result s{o.as_given || o.devices.size() == 1 ? *cheapest
                                                      : run(all, o.devices, "+ device choice")};
    s.run.step = "+ device choice";
    s.factor = steps.back().run.usd_per_mtok_out / s.run.usd_per_mtok_out;
    steps.push_back(std::move(s));
  }

  if (csv_file) {
    std::ofstream& f = *csv_file;
    f << "section,name,device,model,usd_per_device_hour,usd_per_mtok_input_hit,"
         "usd_per_mtok_input_miss,usd_per_mtok_output,usd_per_mtok_output_all_busy,"
         "usd_per_mtok_all_tokens,factor\n";
    const auto c = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : ""; };
    for (const run_result& r : per_device) {
      const econ::token_prices p = r.sheet.usd_per_mtok();
      f << fmt::format("device,{},{},{},{},{},{},{},{},{},\n", r.step, r.device, r.model,
                       r.usd_per_hour, c(p.input_hit), c(p.input_miss), c(p.output),
                       r.usd_per_mtok_out, r.usd_per_mtok_all);
    }
    for (const step_result& s : steps) {
      const econ::token_prices p = s.run.sheet.usd_per_mtok();
      f << fmt::format("waterfall,\"{}\",{},{},{},{},{},{},{},{},{}\n", s.run.step, s.run.device,
                       s.run.model, s.run.usd_per_hour, c(p.input_hit), c(p.input_miss),
                       c(p.output), s.run.usd_per_mtok_out, s.run.usd_per_mtok_all, s.factor);
    }
  }
  std::vector<hit_point> hits;
  if (!o.plot_dir.empty()) {
    hits = hit_rate_curve(o, model_of(o, all));
    plot(o, steps, steps.back().run, hits);
  }

  const int q = static_cast<int>(100 * o.quantile + 0.5);
  const std::string operating_point =
      o.as_given
          ? fmt::format("as given: the flags' fixed layout on {} devices; all busy device time "
                        "(prefill, cache load, decode; idle excluded) per million output tokens",
                        o.devices_total)
          : fmt::format("planned: for each row, the cheapest deployment (infercost plan) meeting "
                        "TTFT p{} <= {} s and TPOT p{} <= {} ms on this workload; all its device "
                        "time (idle included) per million output tokens",
                        q, o.slo_ttft_s, q, 1e3 * o.slo_tpot_s);
  if (o.json) {
    nlohmann::json j;
    j["workload"] = {{"name", w.name}, {"requests", w.size()}, {"input_tokens", w.input_tokens()}};
    j["operating_point"] = o.as_given ? "as_given" : "planned";
    j["objectives"] = {
        {"quantile", o.quantile}, {"ttft_s", o.slo_ttft_s}, {"tpot_s", o.slo_tpot_s}};
    j["metric"] = "usd_per_mtok_output_all_busy: " + operating_point;
    for (const run_result& r : per_device)
      j["devices"].push_back(to_json(r));
    for (const econ::api_price& a : econ::api_price_table) {
      const econ::token_prices p = a.usd_per_mtok(o.cny_per_usd);
      j["api_prices"].push_back({{"name", a.name},
                                 {"usd_per_mtok_input_hit", *p.input_hit},
                                 {"usd_per_mtok_input_miss", *p.input_miss},
                                 {"usd_per_mtok_output", *p.output},
                                 {"source", a.source}});
    }
    for (const step_result& s : steps) {
      nlohmann::json e = to_json(s.run);
      e["factor"] = s.factor;
      j["waterfall"].push_back(e);
    }
    std::cout << j.dump(2) << '\n';
    return 0;
  }

  const run_result& f0 = per_device.front();
  fmt::print("infercost price: {} ({}), {} requests, {:.1f}M prompt / {:.2f}M output tokens\n",
             w.name.substr(w.name.find_last_of('/') + 1), o.format, w.size(),
             static_cast<double>(w.input_tokens()) / 1e6,
             static_cast<double>(f0.rep.use.output_tokens) / 1e6);
  fmt::print("operating point {}\n\n", operating_point);
  fmt::print("1. $ per million tokens at cost{}: {} with every lever{}\n",
             o.margin > 0 ? fmt::format(" + {:.0f}% margin", 100 * o.margin) : "", f0.model,
             all.sparse && all.moe ? " (DeepSeek-V3 + DeepSeek-V3.2-Exp's DSA sparse attention)"
                                   : "");
  fmt::print("   device time of prefill → input miss, of cache loads → input hit, of decode → "
             "output; 'out all' charges all of it to output tokens (see 2.)\n");
  fmt::print("   {:<16} {:>7} {:>6} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8}  {}\n", "device", "devices",
             "$/dev-h", "in hit", "in miss", "output", "out all", fmt::format("TTFT p{}", q),
             fmt::format("TPOT p{}", q), "deployment");
  for (const run_result& r : per_device) {
    const econ::token_prices p = r.sheet.usd_per_mtok();
    fmt::print("   {:<16} {:>7} {:>6.2f} {} {} {} {:>9.3f} {:>7.2f}s {:>6.1f}ms  {}\n",
               r.device + (r.meets ? "" : "*"), r.devices, r.usd_per_hour, opt(p.input_hit, 9, 4),
               opt(p.input_miss, 9, 4), opt(p.output, 8, 3), r.usd_per_mtok_out,
               objective_at(o, r.rep.latency.ttft_s), 1e3 * objective_at(o, r.rep.latency.tpot_s),
               r.layout);
  }
  fmt::print("   public API prices (article's table, ¥{}/$):\n", o.cny_per_usd);
  for (const econ::api_price& a : econ::api_price_table) {
    const econ::token_prices p = a.usd_per_mtok(o.cny_per_usd);
    fmt::print("   {:<16} {:>7} {:>6} {:>9.4f} {:>9.4f} {:>8.3f} {:>9} {:>8} {:>8}  {}{}\n", a.name,
               "", "", *p.input_hit, *p.input_miss, *p.output, "", "", "", a.source,
               a.lists_cache_hit_price ? "" : " (hit = miss)");
  }
  fmt::print("   $/device-hour sources:\n");
  for (const run_result& r : per_device)
    fmt::print("   {:<16} {}\n", r.device, r.rate_source);
  fmt::print("\n2. Waterfall on {}: $ per million output tokens, all device time charged{}\n",
             o.waterfall_device,
             o.as_given ? fmt::format(" (busy only, {} devices)", o.devices_total)
                        : ", each step planned at its own optimum");
  fmt::print("   (each request's input is amortised over its output)\n");
  fmt::print("   {:<22} {:>10} {:>7} {:>10} {:>7} {:>8} {:>8}  {}\n", "step", "$/M out", "factor",
             "$/M all", "devices", fmt::format("TTFT p{}", q), fmt::format("TPOT p{}", q),
             "deployment");
  for (const step_result& s : steps)
    fmt::print("   {:<22} {:>10.3f} {:>6.2f}x {:>10.4f} {:>7} {:>7.2f}s {:>6.1f}ms  {}: {}\n",
               s.run.step + (s.run.meets ? "" : "*"), s.run.usd_per_mtok_out, s.factor,
               s.run.usd_per_mtok_all, s.run.devices, objective_at(o, s.run.rep.latency.ttft_s),
               1e3 * objective_at(o, s.run.rep.latency.tpot_s), s.run.model, s.run.layout);
  fmt::print("   total: {:.1f}x ({:.3f} → {:.3f} $/M output tokens); '$/M all' divides the same "
             "cost by prompt + output tokens\n",
             steps.front().run.usd_per_mtok_out / steps.back().run.usd_per_mtok_out,
             steps.front().run.usd_per_mtok_out, steps.back().run.usd_per_mtok_out);
  std::vector<std::string> missed;
  for (const run_result& r : per_device)
    if (!r.meets)
      missed.push_back(fmt::format("{}: {}", r.device, r.miss));
  for (const step_result& s : steps)
    if (!s.run.meets)
      missed.push_back(fmt::format("{}: {}", s.run.step, s.run.miss));
  for (const std::string& m : missed)
    fmt::print("   * {}\n", m);
  bool capped = false;
  for (const run_result& r : per_device)
    capped = capped || r.capped;
  for (const step_result& s : steps)
    capped = capped || s.run.capped;
  if (capped)
    fmt::print("   some searches stopped at their 64 lowest-bound candidates with cheaper bounds "
               "left; `infercost plan --max-finalists 0` searches a row in full\n");
  if (o.as_given)
    fmt::print("   busy time counts a step whatever its batch: where a pool runs below "
               "saturation, a lever that shortens steps\n   buys latency more than cost; "
               "without --as-given every step is planned for the objectives\n");
  return 0;
}

} // namespace

command add_price(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "price", "$ per million tokens per device beside API prices, and the waterfall of levers "
               "(dense → MoE → sparse attention → PD → tiered KV cache → MTP → device choice)");
  auto o = std::make_shared<price_options>();
  sub->add_option("--model", o->model, "MoE model preset (see `infercost models`)")
      ->capture_default_str();
  sub->add_option("--dense-model", o->dense_model,
                  "Dense model of comparable quality, the waterfall's first step")
      ->capture_default_str();
  sub->add_option("--devices", o->devices,
                  "Devices priced with every lever (see `infercost devices`); space- or "
                  "comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--waterfall-device", o->waterfall_device, "Device the waterfall runs on")
      ->capture_default_str();
  sub->add_option("--prefill-device", o->prefill_device,
                  "With --decode-device: one more row, PD with the prefill pool on this device "
                  "and the decode pool on the other, each pool's time at its device's rate");
  sub->add_option("--decode-device", o->decode_device,
                  "With --prefill-device: the decode pool's device");
  sub->add_option("--trace", o->trace, "Request trace (default: the shipped Mooncake sample)")
      ->capture_default_str();
  sub->add_option("--format", o->format, "Trace format: mooncake or azure")->capture_default_str();
  sub->add_option("--max-requests", o->max_requests, "Keep only the first N requests (0: all)")
      ->capture_default_str();
  sub->add_option("--time-scale", o->time_scale, "Replay at this many times the trace's rate")
      ->capture_default_str();
  o->as_given_only.push_back(
      sub->add_option("--devices-total", o->devices_total, "Devices of every configuration")
          ->capture_default_str());
  sub->add_option("--devices-per-node", o->devices_per_node,
                  "Devices per scale-up domain (0: the device's own)")
      ->capture_default_str();
  o->as_given_only.push_back(
      sub->add_option("--instance-devices", o->instance_devices,
                      "Devices per MoE instance (DP attention + EP over all of them)")
          ->capture_default_str());
  o->as_given_only.push_back(
      sub->add_option("--dense-tp", o->dense_tp, "Tensor-parallel devices per dense instance")
          ->capture_default_str());
  o->as_given_only.push_back(sub->add_option("--prefill-devices", o->prefill_devices,
                                             "PD: devices of the prefill pool (the rest decode)")
                                 ->capture_default_str());
  o->as_given_only.push_back(
      sub->add_option(
             "--pd-threshold", o->pd_threshold,
             "PD: prompts longer than this go to the prefill pool, shorter ones are prefilled "
             "on a decode "
             "instance (the article's rule, 4096; 0: all)")
          ->capture_default_str());
  sub->add_option("--max-batched-tokens", o->max_batched_tokens,
                  "Step token budget per attention group")
      ->capture_default_str();
  sub->add_option("--precision", o->precision,
                  "Weight precision: bf16, fp8, int8, fp4 (default: the one each device serves: "
                  "FP8 on parts with FP8 units, INT8 W8A8 on Ascend)");
  sub->add_option("--kv-precision", o->kv_precision, "KV-cache precision")->capture_default_str();
  sub->add_option("--levers", o->levers,
                  "Levers to use: moe, sparse (DeepSeek-V3.2 DSA), pd, cache, mtp (or none); "
                  "space- or comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_flag("--no-moe", o->no_moe, "Serve the dense model only");
  sub->add_flag("--no-sparse", o->no_sparse, "Full attention instead of DSA");
  sub->add_flag("--no-pd", o->no_pd, "Colocated prefill and decode");
  sub->add_flag("--no-cache", o->no_cache, "No prefix cache");
  sub->add_flag("--no-mtp", o->no_mtp, "No MTP speculative decoding");
  sub->add_option("--cache-hbm-fraction", o->cache_hbm_fraction,
                  "Share of KV HBM given to cached prefixes (DRAM and SSD tiers below it)")
      ->capture_default_str();
  sub->add_option("--acceptance", o->acceptance,
                  "MTP per-token acceptance (DeepSeek-V3 report §5.4.3: 85-90%)")
      ->capture_default_str();
  sub->add_option("--mtp-tokens", o->mtp_tokens, "Draft tokens verified per step")
      ->capture_default_str();
  sub->add_option("--usd-per-hour", o->usd_per_hour,
                  "Override a device's rate: DEVICE=USD per device-hour (repeatable)");
  sub->add_option("--cny-per-usd", o->cny_per_usd, "Exchange rate for the API prices")
      ->capture_default_str();
  sub->add_option("--margin", o->margin, "Gross margin added to the simulated prices, in [0, 1)")
      ->capture_default_str();
  sub->add_flag("--as-given", o->as_given,
                "Price the fixed layout the flags give (--devices-total, --instance-devices, "
                "--prefill-devices, ...), busy device time only, instead of planning each row "
                "for the objectives");
  sub->add_option("--slo-ttft-s", o->slo_ttft_s, "Planned rows: TTFT objective at --quantile")
      ->capture_default_str();
  sub->add_option("--slo-tpot-s", o->slo_tpot_s, "Planned rows: TPOT objective at --quantile")
      ->capture_default_str();
  sub->add_option("--quantile", o->quantile, "Quantile of the objectives: 0.5, 0.9 or 0.99")
      ->capture_default_str();
  sub->add_option("--engine", o->engine,
                  "Planned rows: the serving engine's per-step costs: none (the roofline), "
                  "trtllm, vllm, sglang")
      ->capture_default_str();
  add_calibration_option(sub, o->calibration);
  sub->add_option("--threads", o->threads, "Planned rows: simulation threads (0: the machine's)")
      ->capture_default_str();
  add_seed_option(sub, o->seed);
  sub->add_flag("--json", o->json, "Print everything as JSON");
  sub->add_option("--csv", o->csv, "Write the per-device prices and the waterfall to this CSV");
  sub->add_option("--plot", o->plot_dir,
                  "Write PNG charts here through gnuplot: waterfall, TTFT/TPOT CDFs of the "
                  "cheapest final configuration, hit rate vs cache capacity");
  return {sub, [o] { return run_price(*o); }};
}

} // namespace infercost::cli
