// `infercost plan`: the cheapest deployment of a model that meets latency objectives on a
// workload, priced at that operating point, and the Pareto frontier of the shapes it screened
// (include/infercost/plan/planner.hpp).
#include "commands.hpp"
#include "plot.hpp"

#include <infercost/device/any_device.hpp>
#include <infercost/io/mooncake_trace.hpp>
#include <infercost/io/workload.hpp>
#include <infercost/plan/planner.hpp>

#include <fmt/core.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace infercost::cli {

plan::device_offer device_offer_of(std::string_view area, const std::string& name,
                                   const std::vector<std::string>& overrides,
                                   const std::string& precision_name, int devices_per_node) {
  any_device d = device_of(name, devices_per_node);
  auto [usd, source] = device_rate(area, overrides, name);
  const precision p =
      precision_name.empty() ? serving_precision(d) : parse_precision(precision_name);
  return {.device = std::move(d),
          .usd_per_device_hour = usd,
          .rate_source = std::move(source),
          .weights = p};
}

namespace {

constexpr std::string_view area = "cli::plan";

struct plan_options {
  std::string model = "deepseek_v3";
  std::vector<std::string> devices{"ascend_910b", "h800_sxm", "h200_sxm"};
  std::string trace = INFERCOST_EXAMPLES_DIR "/data/mooncake_conversation_2000.jsonl";
  std::string format; ///< empty: from the file
  long long max_requests = 0;
  double time_scale = 1.0;
  double rate = 0.0; ///< requests/s: a trace is rescaled to it; a synthetic workload arrives at it
  int concurrency = 0;     ///< closed-loop clients on the workload's lengths; 0: its arrivals
  double token_rate = 0.0; ///< prompt + output tokens/s the arrivals carry (instead of --rate)
  long long requests = 1000;
  long long input_tokens = 1024;
  long long output_tokens = 128;
  double ttft_s = 2.0;
  double tpot_s = 0.05;
  double user_tokens_per_s = 0.0;
  double quantile = 0.9;
  int max_devices = 0;
  std::vector<int> instance_devices{1, 2, 4, 8, 16, 32};
  std::vector<long long> max_batched_tokens{2048, 8192};
  long long prefill_max_batched_tokens = 16384;
  std::vector<int> mtp{0, 1};
  double acceptance = 0.85;
  std::string cache = "both";
  bool no_colocated = false;
  bool no_pd = false;
  bool no_heterogeneous = false;
  std::string precision; ///< empty: each device's serving precision
  std::string kv_precision = "bf16";
  std::string engine = "none";
  std::string calibration;
  std::vector<std::string> usd_per_hour;
  int threads = 0;
  int max_finalists = 64;
  int exhaustive = 0;
  unsigned long long seed = 1;
  bool json = false;
  std::string csv;
  std::string plot_dir;
};

io::workload load_workload(const plan_options& o) {
  io::workload w;
  std::string format = o.format;
  if (format.empty())
    format = o.trace.ends_with(".jsonl") ? "mooncake" : "azure";
  check_non_negative(area, "concurrency", o.concurrency);
  check_non_negative(area, "token-rate", o.token_rate);
  const bool closed = o.concurrency > 0;
  if (o.token_rate > 0.0 && closed)
    throw config_error(area, "token-rate",
                       fmt::format("({}) sets a replay's arrivals: closed-loop clients "
                                   "(--concurrency) send as their requests end",
                                   o.token_rate));
  if (o.token_rate > 0.0 && (o.rate > 0.0 || o.time_scale != 1.0))
    throw config_error(
        area, "token-rate",
        fmt::format("({}) and --rate or --time-scale both set the rate", o.token_rate));
  if (format == "synthetic") {
    check_positive(area, "requests", o.requests);
    // Every synthetic request carries isl + osl tokens.
    const double rate =
        o.token_rate > 0.0
            ? o.token_rate /
                  static_cast<double>(std::max<long long>(1, o.input_tokens + o.output_tokens))
            : o.rate;
    // Closed-loop clients ignore arrival times: any rate generates the lengths.
    if (!closed || rate != 0.0)
      check_positive(area, "rate", rate);
    w = io::synthetic_workload({.requests = static_cast<std::size_t>(o.requests),
                                .arrivals = {.process = io::arrival_process::poisson,
                                             .rate_per_s = rate > 0.0 ? rate : 1.0},
                                .input_tokens = o.input_tokens,
                                .output_tokens = o.output_tokens},
                               o.seed);
    return w;
  }
  if (format == "mooncake")
    w = io::read_mooncake_workload(o.trace);
  else if (format == "azure")
    w = io::read_azure_workload(o.trace);
  else
    throw config_error(area, "format",
                       fmt::format("('{}') must be mooncake, azure or synthetic", format));
  check_non_negative(area, "max-requests", o.max_requests);
  if (o.max_requests > 0)
    w = io::take(std::move(w), static_cast<std::size_t>(o.max_requests));
  check_positive(area, "time-scale", o.time_scale);
  check_non_negative(area, "rate", o.rate);
  if (closed) {
    // The clients send as their requests end; --rate caps the sends instead (closed_loop_of).
    if (o.time_scale != 1.0)
      throw config_error(area, "time-scale",
                         fmt::format("({}) scales a replay's arrivals: closed-loop clients "
                                     "(--concurrency) ignore them",
                                     o.time_scale));
    return w;
  }
  if (o.rate > 0.0 && o.time_scale != 1.0)
    throw config_error(
        area, "rate",
        fmt::format("({}) and --time-scale ({}) both set the rate", o.rate, o.time_scale));
  double factor = o.time_scale;
  if (o.rate > 0.0 || o.token_rate > 0.0) {
    const plan::load_summary l = plan::load_summary::of(w);
    factor = o.rate > 0.0 ? o.rate / l.requests_per_s
                          : o.token_rate / (l.requests_per_s * (l.mean_input + l.mean_output));
  }
  if (factor != 1.0)
    w = io::scale_time(std::move(w), factor);
  return w;
}

/// The closed-loop clients --concurrency asks for on `w`, or none. Clients start spread over the
/// latency a deployment meeting the objectives has at most (the load's estimate), as in a steady
/// state; with at least 3 × N requests the first and last N are left out of the statistics.
std::optional<serving::closed_loop> closed_loop_of(const plan_options& o, const io::workload& w,
                                                   const plan::objectives& goals) {
  if (o.concurrency <= 0)
    return std::nullopt;
  const auto n = static_cast<std::int64_t>(w.size());
  const std::int64_t edge = n >= 3 * o.concurrency ? o.concurrency : 0;
  serving::closed_loop c{
      .clients = o.concurrency, .warmup = edge, .cooldown = edge, .request_rate = o.rate};
  double output = 0.0;
  for (const io::workload_request& q : w.requests)
    output += static_cast<double>(q.output_tokens);
  c.ramp_up_s = goals.request_latency_s(output / static_cast<double>(n));
  return c;
}

plan::search_space space_of(const plan_options& o) {
  plan::search_space s;
  if (o.devices.empty())
    throw config_error(area, "devices", "(none) needs at least one device");
  for (const std::string& name : o.devices)
    s.devices.push_back(device_offer_of(area, name, o.usd_per_hour, o.precision, 0));
  for (const std::string& kv : o.usd_per_hour) {
    const std::string name = parse_rate(area, kv).first;
    bool priced = false;
    for (const plan::device_offer& d : s.devices)
      priced = priced || d.device.name() == name;
    if (!priced)
      throw config_error(area, "usd-per-hour",
                         fmt::format("('{}') names {}, which is not a candidate (--devices {})", kv,
                                     name, fmt::join(o.devices, ",")));
  }
  s.colocated = !o.no_colocated;
  s.pd = !o.no_pd;
  s.heterogeneous = !o.no_heterogeneous;
  s.instance_devices = o.instance_devices;
  s.max_batched_tokens.assign(o.max_batched_tokens.begin(), o.max_batched_tokens.end());
  s.prefill_max_batched_tokens = o.prefill_max_batched_tokens;
  s.mtp_tokens = o.mtp;
  s.mtp_acceptance = o.acceptance;
  if (o.cache == "both")
    s.prefix_cache = {false, true};
  else if (o.cache == "on")
    s.prefix_cache = {true};
  else if (o.cache == "off")
    s.prefix_cache = {false};
  else
    throw config_error(area, "cache", fmt::format("('{}') must be on, off or both", o.cache));
  s.kv_precision = parse_precision(o.kv_precision);
  s.max_devices = o.max_devices;
  s.max_finalists = o.max_finalists;
  s.threads = o.threads;
  s.seed = o.seed;
  s.engine_profile = engine_profiles(o.engine, o.calibration, s.devices.front().device);
  return s;
}

std::string pct(double v) { return fmt::format("{:.0f}%", 100.0 * v); }

std::string opt(const std::optional<double>& v, int prec) {
  return v ? fmt::format("{:.{}f}", *v, prec) : "n/a";
}

nlohmann::json pool_json(const plan::search_space& s, std::string_view role,
                         const plan::pool_shape& p, int instances, int mtp) {
  return {{"role", role},
          {"device", s.devices[p.device].device.name()},
          {"instances", instances},
          {"devices_per_instance", p.devices},
          {"parallel", plan::to_string(p.style)},
          {"weights", to_string(s.devices[p.device].weights)},
          {"max_batched_tokens", p.max_batched_tokens},
          {"max_sequences_per_group", p.max_sequences_per_group},
          {"mtp_tokens", role == "prefill" ? 0 : mtp}};
}

nlohmann::json point_json(const plan::frontier_point& f) {
  return {{"shape", f.shape},
          {"user_tokens_per_s", f.user_tokens_per_s},
          {"tokens_per_s_per_device", f.tokens_per_s_per_device},
          {"usd_per_million_output", f.usd_per_million_output},
          {"batch_per_group", f.batch_per_group},
          {"tpot_s", f.tpot_s},
          {"chosen", f.chosen}};
}

nlohmann::json deployment_json(const plan::search_space& s, const plan::objectives& goals,
                               const plan::evaluation& e) {
  const plan::deployment& d = e.d;
  nlohmann::json pools = nlohmann::json::array();
  if (d.pd()) {
    pools.push_back(pool_json(s, "prefill", d.entry, d.entry_instances, d.mtp_tokens));
    pools.push_back(pool_json(s, "decode", d.decode, d.decode_instances, d.mtp_tokens));
  } else {
    pools.push_back(pool_json(s, "colocated", d.entry, d.entry_instances, d.mtp_tokens));
  }
  const econ::token_prices p = e.sheet.usd_per_mtok();
  const auto j = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {
      {"description", plan::describe(s, d)},
      {"devices_total", d.devices()},
      {"usd_per_hour", e.usd_per_hour},
      {"usd_per_day", 24.0 * e.usd_per_hour},
      {"usd_per_million",
       {{"input_hit", j(p.input_hit)}, {"input_miss", j(p.input_miss)}, {"output", j(p.output)}}},
      {"deployment",
       {{"mode", d.pd() ? "pd" : "colocated"},
        {"pools", pools},
        {"mtp_tokens", d.mtp_tokens},
        {"prefix_cache", d.prefix_cache},
        {"balancer", d.balancer}}},
      {"latency", {{"quantile", goals.quantile}, {"ttft_s", e.ttft_s}, {"tpot_s", e.tpot_s}}},
      {"headroom",
       {{"ttft", 1.0 - e.ttft_s / goals.ttft_s}, {"tpot", 1.0 - e.tpot_s / goals.tpot_target_s()}}},
      {"utilisation", {{"entry", e.utilisation_entry}, {"decode", e.utilisation_decode}}},
      {"output_tokens_per_s", e.output_tokens_per_s},
      {"output_tokens_per_s_per_device", e.output_tokens_per_s_per_device},
      {"cache_hit_rate", e.cache_hit_rate},
      {"lower_bound_usd_per_hour", e.lower_bound_usd_per_hour}};
}

void plot(const plan_options& o, const plan::result& r, const std::string& title) {
  const std::optional<std::filesystem::path> opened = open_plot_dir("plan", area, o.plot_dir);
  if (!opened)
    return;
  const std::filesystem::path& dir = *opened;
  std::string all, chosen, tf, cf;
  for (const plan::frontier_point& f : r.points) {
    const std::string line = fmt::format("{} {} {}\n", f.user_tokens_per_s,
                                         f.tokens_per_s_per_device, f.usd_per_million_output);
    all += line;
    if (f.chosen)
      chosen += line;
  }
  for (const plan::frontier_point& f : r.throughput)
    tf += fmt::format("{} {}\n", f.user_tokens_per_s, f.tokens_per_s_per_device);
  for (const plan::frontier_point& f : r.cost)
    cf += fmt::format("{} {}\n", f.user_tokens_per_s, f.usd_per_million_output);
  write_plot_file(area, dir / "points.dat", all);
  write_plot_file(area, dir / "chosen.dat", chosen.empty() ? "nan nan nan\n" : chosen);
  write_plot_file(area, dir / "throughput_frontier.dat", tf);
  write_plot_file(area, dir / "cost_frontier.dat", cf);
  std::string gp = "set terminal pngcairo size 1100,480 noenhanced\nset output 'frontier.png'\n";
  gp += fmt::format("set multiplot layout 1,2 title '{}'\nset grid\nset logscale y\n"
                    "set key bottom left\nset xlabel 'tokens/s per user (1 / TPOT)'\n",
                    title);
  gp += "set ylabel 'output tokens/s per device'\nset title 'throughput per device'\n"
        "plot 'points.dat' using 1:2 with points pt 7 ps 0.4 lc rgb '#bbbbbb' title 'screened "
        "shapes', 'throughput_frontier.dat' using 1:2 with linespoints pt 7 lw 2 title 'frontier', "
        "'chosen.dat' using 1:2 with points pt 9 ps 1.6 lc rgb 'red' title 'chosen shape'\n";
  gp += "set ylabel 'USD per million output tokens'\nset title 'cost'\nset key top left\n"
        "plot 'points.dat' using 1:3 with points pt 7 ps 0.4 lc rgb '#bbbbbb' title 'screened "
        "shapes', 'cost_frontier.dat' using 1:2 with linespoints pt 7 lw 2 title 'frontier', "
        "'chosen.dat' using 1:3 with points pt 9 ps 1.6 lc rgb 'red' title 'chosen shape'\n"
        "unset multiplot\n";
  run_gnuplot(area, dir, "frontier.gp", gp);
  fmt::print(stderr, "infercost plan: wrote frontier.png to {}\n", o.plot_dir);
}

void print_deployment(const plan::search_space& s, const plan::objectives& goals,
                      const plan::evaluation& e) {
  const plan::deployment& d = e.d;
  fmt::print("  {}\n", plan::describe(s, d));
  if (d.pd())
    fmt::print("  devices {} ({} x {} {} prefill + {} x {} {} decode)", d.devices(),
               d.entry_instances, d.entry.devices, s.devices[d.entry.device].device.name(),
               d.decode_instances, d.decode.devices, s.devices[d.decode.device].device.name());
  else
    fmt::print("  devices {} ({} x {} {})", d.devices(), d.entry_instances, d.entry.devices,
               s.devices[d.entry.device].device.name());
  fmt::print("   ${:.2f}/hour   ${:.0f}/day\n", e.usd_per_hour, 24.0 * e.usd_per_hour);
  const econ::token_prices p = e.sheet.usd_per_mtok();
  fmt::print("  $ per million tokens at this operating point (all device time, idle included): "
             "input hit {}, input miss {}, output {}\n",
             opt(p.input_hit, 4), opt(p.input_miss, 4), opt(p.output, 3));
  const int q = static_cast<int>(100 * goals.quantile + 0.5);
  fmt::print("  TTFT p{} {:.3f} s (headroom {}), TPOT p{} {:.1f} ms (headroom {}), {} rejected\n",
             q, e.ttft_s, pct(1.0 - e.ttft_s / goals.ttft_s), q, 1e3 * e.tpot_s,
             pct(1.0 - e.tpot_s / goals.tpot_target_s()), e.rejected);
  if (d.pd())
    fmt::print("  utilisation: prefill pool {}, decode pool {}", pct(e.utilisation_entry),
               pct(e.utilisation_decode));
  else
    fmt::print("  utilisation {}", pct(e.utilisation_entry));
  fmt::print("; output {:.0f} tokens/s ({:.1f} per device){}\n", e.output_tokens_per_s,
             e.output_tokens_per_s_per_device,
             d.prefix_cache ? fmt::format("; prefix-cache block hit rate {}", pct(e.cache_hit_rate))
                            : "");
}

int run_plan(const plan_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<std::ofstream> csv_file;
  if (!o.csv.empty())
    csv_file = open_output(area, "csv", o.csv);
  const model::model_config m = cli::model_of(o.model);
  const plan::objectives goals{.ttft_s = o.ttft_s,
                               .tpot_s = o.tpot_s,
                               .user_tokens_per_s = o.user_tokens_per_s,
                               .quantile = o.quantile};
  goals.validate();
  const plan::search_space space = space_of(o);
  const io::workload w = load_workload(o);
  const std::optional<serving::closed_loop> clients = closed_loop_of(o, w, goals);
  const plan::planner planner =
      clients ? plan::planner(m, space, goals, w, *clients) : plan::planner(m, space, goals, w);
  const plan::result r = planner.search();
  const double search_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::optional<plan::result> ex;
  if (o.exhaustive > 0)
    ex = planner.exhaustive(o.exhaustive);
  const plan::load_summary& l = r.load;
  const std::string wname = w.name.substr(w.name.find_last_of('/') + 1);

  if (csv_file) {
    std::ofstream& f = *csv_file;
    f << "shape,batch_per_group,tpot_s,user_tokens_per_s,tokens_per_s_per_device,"
         "usd_per_million_output,throughput_frontier,cost_frontier,chosen\n";
    const auto on = [](const std::vector<plan::frontier_point>& v, const plan::frontier_point& p) {
      for (const plan::frontier_point& x : v)
        if (x.shape == p.shape && x.batch_per_group == p.batch_per_group)
          return 1;
      return 0;
    };
    for (const plan::frontier_point& p : r.points)
      f << fmt::format("\"{}\",{},{},{},{},{},{},{},{}\n", p.shape, p.batch_per_group, p.tpot_s,
                       p.user_tokens_per_s, p.tokens_per_s_per_device, p.usd_per_million_output,
                       on(r.throughput, p), on(r.cost, p), p.chosen ? 1 : 0);
  }
  if (!o.plot_dir.empty())
    plot(o, r,
         fmt::format("{} on {}: TTFT p{:.0f} <= {} s, TPOT <= {} ms", m.name, wname,
                     100 * goals.quantile, goals.ttft_s, 1e3 * goals.tpot_target_s()));

  if (o.json) {
    nlohmann::json j;
    j["model"] = m.name;
    j["workload"] = {{"name", wname},
                     {"requests", w.size()},
                     {"requests_per_s", l.requests_per_s},
                     {"mean_input", l.mean_input},
                     {"mean_output", l.mean_output},
                     {"ideal_hit_rate", l.ideal_hit_rate},
                     {"clients", clients ? nlohmann::json(clients->clients) : nlohmann::json()},
                     {"send_rate", clients && clients->request_rate > 0.0
                                       ? nlohmann::json(clients->request_rate)
                                       : nlohmann::json()}};
    j["objectives"] = {
        {"quantile", goals.quantile}, {"ttft_s", goals.ttft_s}, {"tpot_s", goals.tpot_target_s()}};
    for (const plan::device_offer& d : space.devices)
      j["devices"].push_back({{"name", d.device.name()},
                              {"usd_per_device_hour", d.usd_per_device_hour},
                              {"weights", to_string(d.weights)},
                              {"rate_source", d.rate_source}});
    j["search"] = {{"shapes", r.shapes},           {"infeasible_shapes", r.infeasible_shapes},
                   {"candidates", r.candidates},   {"simulated_candidates", r.simulated_candidates},
                   {"simulations", r.simulations}, {"capped", r.capped},
                   {"seconds", search_s}};
    if (r.best) {
      const nlohmann::json b = deployment_json(space, goals, *r.best);
      for (auto it = b.begin(); it != b.end(); ++it)
        j[it.key()] = it.value();
    } else {
      j["deployment"] = nullptr;
    }
    j["frontier"] = nlohmann::json::array();
    for (const plan::frontier_point& f : r.throughput)
      j["frontier"].push_back(point_json(f));
    j["cost_frontier"] = nlohmann::json::array();
    for (const plan::frontier_point& f : r.cost)
      j["cost_frontier"].push_back(point_json(f));
    if (ex) {
      j["exhaustive"] = {{"simulations", ex->simulations},
                         {"usd_per_hour", ex->best ? nlohmann::json(ex->best->usd_per_hour)
                                                   : nlohmann::json(nullptr)},
                         {"description", ex->best ? plan::describe(space, ex->best->d) : ""}};
    }
    std::cout << j.dump(2) << '\n';
    return r.best ? 0 : 2;
  }

  fmt::print("infercost plan: {} on {} ({} requests, {:.2f} requests/s, mean prompt {:.0f} / "
             "output {:.0f} tokens, {} of prompt tokens an unbounded prefix cache would hit)\n",
             m.name, wname, w.size(), l.requests_per_s, l.mean_input, l.mean_output,
             pct(l.ideal_hit_rate));
  if (clients)
    fmt::print("closed loop: {} clients, each sending its next request when the previous one "
               "ends{} (the requests/s above: the least a deployment meeting the objectives "
               "serves); requests {}..{} measured\n",
               clients->clients,
               clients->request_rate > 0.0
                   ? fmt::format(", sends capped at {} requests/s", clients->request_rate)
                   : "",
               clients->warmup, static_cast<std::int64_t>(w.size()) - clients->cooldown - 1);
  fmt::print("objectives: TTFT p{:.0f} <= {:.3f} s, TPOT p{:.0f} <= {:.1f} ms{}\n",
             100 * goals.quantile, goals.ttft_s, 100 * goals.quantile, 1e3 * goals.tpot_target_s(),
             o.max_devices > 0 ? fmt::format(", at most {} devices", o.max_devices) : "");
  for (const plan::device_offer& d : space.devices)
    fmt::print("device {:<14} ${:.2f}/hour, {} weights ({})\n", d.device.name(),
               d.usd_per_device_hour, to_string(d.weights), d.rate_source);
  fmt::print("search: {} pool shapes screened ({} cannot serve), {} candidate deployments; "
             "{} confirmed by simulation in {} runs; {:.1f} s\n\n",
             r.shapes, r.infeasible_shapes, r.candidates, r.simulated_candidates, r.simulations,
             search_s);
  if (r.capped)
    fmt::print("(stopped at --max-finalists {}: candidates whose bound is below the best cost "
               "were not simulated; 0 simulates them all)\n\n",
               o.max_finalists);
  if (!r.best) {
    fmt::print("no deployment in the space meets the objectives");
    if (!r.confirmed.empty()) {
      const auto& c = r.confirmed.back();
      fmt::print(" (last tried: {}: TTFT {:.2f} s, TPOT {:.1f} ms, {} rejected)",
                 plan::describe(space, c.d), c.ttft_s, 1e3 * c.tpot_s, c.rejected);
    }
    fmt::print("\n");
    for (const std::string& why : r.infeasible_reasons)
      fmt::print("  cannot serve: {}\n", why);
    return 2;
  }
  fmt::print("cheapest deployment meeting every objective:\n");
  print_deployment(space, goals, *r.best);
  fmt::print("  (screen's lower bound for this candidate: ${:.2f}/hour)\n",
             r.best->lower_bound_usd_per_hour);

  fmt::print("\nfrontiers (analytic, from step costs: decode batches 1, 2, 4, ... per attention "
             "group at the mean context, each with the prefill devices its load needs, every "
             "device busy; $/M out charges all device time to output tokens):\n");
  const auto table = [](std::string_view title, const std::vector<plan::frontier_point>& v) {
    fmt::print("  {}\n  {:>10} {:>12} {:>10} {:>8} {:>6}  {}\n", title, "tok/s/user",
               "tok/s/device", "$/M out", "TPOT ms", "batch", "shape");
    for (const plan::frontier_point& f : v)
      fmt::print("  {:>10.1f} {:>12.1f} {:>10.3f} {:>8.1f} {:>6}  {}{}\n", f.user_tokens_per_s,
                 f.tokens_per_s_per_device, f.usd_per_million_output, 1e3 * f.tpot_s,
                 f.batch_per_group, f.shape, f.chosen ? "  <- chosen shape" : "");
  };
  table("throughput per device against tokens/s per user:", r.throughput);
  table("$ per million output tokens against tokens/s per user:", r.cost);
  if (ex) {
    fmt::print("\nexhaustive: every candidate at 1..{} instances per pool, {} simulations\n",
               o.exhaustive, ex->simulations);
    if (ex->best) {
      fmt::print("  cheapest: ${:.2f}/hour: {}\n", ex->best->usd_per_hour,
                 plan::describe(space, ex->best->d));
      fmt::print("  plan's choice: ${:.2f}/hour, {:.4f} x the exhaustive optimum\n",
                 r.best->usd_per_hour, r.best->usd_per_hour / ex->best->usd_per_hour);
    } else {
      fmt::print("  no deployment meets the objectives at these counts\n");
    }
  }
  return 0;
}

} // namespace

command add_plan(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "plan", "The cheapest deployment that meets TTFT/TPOT objectives on a workload (colocated "
              "or PD, layouts, instance counts, batch caps, MTP, prefix cache), priced at that "
              "operating point, with the Pareto frontier");
  auto o = std::make_shared<plan_options>();
  sub->add_option("--model", o->model, "Model preset or config.json")->capture_default_str();
  sub->add_option("--devices", o->devices,
                  "Candidate devices for every pool (PD pools may differ); space- or "
                  "comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--trace", o->trace, "Request trace (default: the shipped Mooncake sample)")
      ->capture_default_str();
  sub->add_option("--format", o->format,
                  "mooncake, azure or synthetic (default: from the name: .jsonl is Mooncake)");
  sub->add_option("--max-requests", o->max_requests, "Keep only the first N requests (0: all)")
      ->capture_default_str();
  sub->add_option("--time-scale", o->time_scale, "Replay at this many times the trace's rate")
      ->capture_default_str();
  sub->add_option("--rate", o->rate,
                  "Requests per second: a trace is rescaled to this mean rate; a synthetic "
                  "workload arrives at it (Poisson); with --concurrency, the most requests sent "
                  "per second (vllm bench serve --request-rate)");
  sub->add_option("--token-rate", o->token_rate,
                  "Prompt + output tokens per second the arrivals carry: a trace is rescaled to "
                  "it; a synthetic workload arrives at it / (isl + osl) requests per second");
  sub->add_option("--concurrency", o->concurrency,
                  "Closed loop: this many clients on the workload's lengths, each sending its "
                  "next request when the previous one ends (0: the workload's arrivals)")
      ->capture_default_str();
  sub->add_option("--requests", o->requests, "synthetic: requests")->capture_default_str();
  sub->add_option("--input-tokens,--isl", o->input_tokens, "synthetic: prompt tokens")
      ->capture_default_str();
  sub->add_option("--output-tokens,--osl", o->output_tokens, "synthetic: output tokens")
      ->capture_default_str();
  sub->add_option("--slo-ttft-s", o->ttft_s, "TTFT objective at the quantile, seconds")
      ->capture_default_str();
  sub->add_option("--slo-tpot-s", o->tpot_s, "TPOT objective at the quantile, seconds")
      ->capture_default_str();
  sub->add_option("--min-user-tokens-per-s", o->user_tokens_per_s,
                  "Tokens/s each user must see (1 / TPOT); the tighter of this and --slo-tpot-s")
      ->capture_default_str();
  sub->add_option("--quantile", o->quantile, "Quantile of the objectives: 0.5, 0.9 or 0.99")
      ->capture_default_str();
  sub->add_option("--max-devices", o->max_devices, "Device budget of a deployment (0: none)")
      ->capture_default_str();
  sub->add_option("--instance-devices", o->instance_devices, "Devices per instance to try")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--max-batched-tokens", o->max_batched_tokens,
                  "Step token budgets to try for colocated and decode instances")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--prefill-max-batched-tokens", o->prefill_max_batched_tokens,
                  "Step token budget of prefill instances")
      ->capture_default_str();
  sub->add_option("--mtp", o->mtp, "MTP draft depths to try (0: none; models with an MTP module)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--acceptance", o->acceptance,
                  "MTP per-token acceptance (DeepSeek-V3 report §5.4.3: 85-90%)")
      ->capture_default_str();
  sub->add_option("--cache", o->cache, "Tiered prefix cache: on, off or both")
      ->capture_default_str();
  sub->add_flag("--no-colocated", o->no_colocated, "PD deployments only");
  sub->add_flag("--no-pd", o->no_pd, "Colocated deployments only");
  sub->add_flag("--no-heterogeneous", o->no_heterogeneous, "PD pools on the same device type only");
  sub->add_option("--precision", o->precision,
                  "Weight precision on every device (default: the one each device serves: FP8 "
                  "where it has FP8 units, else INT8 W8A8)");
  sub->add_option("--kv-precision", o->kv_precision, "KV-cache precision")->capture_default_str();
  sub->add_option("--engine", o->engine,
                  "Serving engine's own per-step costs: none (the roofline), trtllm, vllm, sglang")
      ->capture_default_str();
  add_calibration_option(sub, o->calibration);
  sub->add_option("--usd-per-hour", o->usd_per_hour,
                  "Override a device's rate: DEVICE=USD per device-hour (repeatable)");
  sub->add_option("--threads", o->threads, "Simulation threads (0: the machine's)")
      ->capture_default_str();
  sub->add_option("--max-finalists", o->max_finalists,
                  "Confirm at most this many candidates by simulation, in order of their cost "
                  "bound (0: until no bound is below the best found)")
      ->capture_default_str();
  sub->add_option("--exhaustive", o->exhaustive,
                  "Also simulate every candidate at 1..N instances per pool and compare (small "
                  "spaces only)")
      ->capture_default_str();
  add_seed_option(sub, o->seed);
  sub->add_flag("--json", o->json, "Print the plan as JSON");
  sub->add_option("--csv", o->csv, "Write every analytic operating point to this CSV");
  sub->add_option("--plot", o->plot_dir,
                  "Write frontier.png here through gnuplot (throughput and cost frontiers)");
  return {sub, [o] { return run_plan(*o); }};
}

} // namespace infercost::cli
