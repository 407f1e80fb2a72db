// `infercost serve`: replays a request trace (or a synthetic workload) on a simulated cluster,
// colocated or prefill/decode-disaggregated, and prints latency, goodput under SLOs,
// throughput per device, utilisation and device time by category (table or JSON; per-request
// CSV on request). With --concurrency N, N closed-loop clients send the workload's requests, each
// when its previous one ends, as `vllm bench serve --max-concurrency` and genai-perf do.
#include "commands.hpp"

#include <infercost/device/any_device.hpp>
#include <infercost/device/catalog.hpp>
#include <infercost/engine/engine_profile.hpp>
#include <infercost/io/mooncake_trace.hpp>
#include <infercost/io/workload.hpp>
#include <infercost/model/presets.hpp>
#include <infercost/serving/cluster.hpp>
#include <infercost/serving/report_json.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace infercost::cli {
namespace {

struct serve_options {
  std::string model = "llama3_70b";
  std::string device = "h800_sxm";
  std::string prefill_device; ///< PD: the prefill pool's device (default: device)
  std::string decode_device;  ///< PD: the decode pool's device (default: device)
  std::string trace;
  std::string format = "synthetic";
  std::string arrival = "poisson";
  double rate = 1.0;
  double cv = 1.0;
  double time_scale = 1.0;
  long long max_requests = 0;
  long long requests = 1000;
  bool requests_set = false; ///< --requests given
  bool format_set = false;   ///< --format given
  bool rate_set = false;     ///< --rate given
  int concurrency = 0;       ///< closed-loop clients; 0: open loop (the workload's arrivals)
  long long warmup = 0;
  long long cooldown = 0;
  double think_time_s = 0.0;
  double ramp_up_s = 0.0;
  long long input_tokens = 1024;
  long long output_tokens = 128;
  std::string mode = "colocated";
  int instances = 4;
  int prefill_instances = 1;
  int decode_instances = 3;
  int devices_per_instance = 8;
  int devices_per_node = 0; ///< 0: the device's own
  int tp = 0;
  int ep = 0;
  bool dp_attention = false;
  int micro_batches = 1;
  std::string precision; ///< empty: the device's serving precision (serving_precision)
  std::string kv_precision = "bf16";
  std::string engine = "none"; ///< engine profile: none, trtllm, vllm, sglang
  std::string calibration;     ///< --calibration FILE (empty: the shipped fit)
  long long max_batched_tokens = 2048;
  long long prefill_max_batched_tokens = 16384;
  long long pd_threshold = 0;
  std::string admission = "length_threshold";
  double backlog_factor = 4.0;
  std::string balancer = "least_loaded";
  std::string batching = "fcfs";
  std::string kv_transfer = "whole_prompt";
  bool prefix_cache = false;
  double cache_hbm_fraction = 0.2;
  int speculative_tokens = 0;
  double acceptance = 0.8;
  std::string draft_model;
  bool mtp = false;
  std::vector<double> slo_ttft_s{1.0};
  std::vector<double> slo_tpot_s{0.05};
  unsigned long long seed = 1;
  bool json = false;
  bool requests_json = false;
  std::string csv;
  bool progress = false;
};

/// The format of the trace at `path`, from its name and, for a CSV, its header: .jsonl is
/// Mooncake; a .csv whose header has Azure's TIMESTAMP column is Azure, any other .csv lengths.
/// @throws config_error when neither tells.
std::string trace_format(const std::string& path) {
  const std::filesystem::path p(path);
  if (p.extension() == ".jsonl")
    return "mooncake";
  if (p.extension() == ".csv") {
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    return header.find(io::azure_timestamp_column) != std::string::npos ? "azure" : "lengths";
  }
  throw config_error("cli::serve", "format",
                     fmt::format("(unset) cannot be told from the name of '{}': give --format "
                                 "mooncake, azure or lengths",
                                 path));
}

io::workload load_workload(const serve_options& o) {
  const io::arrival_config arrivals{.process = o.arrival == "gamma" ? io::arrival_process::gamma
                                                                    : io::arrival_process::poisson,
                                    .rate_per_s = o.rate,
                                    .cv = o.cv};
  if (o.arrival != "poisson" && o.arrival != "gamma")
    throw config_error("cli::serve", "arrival",
                       fmt::format("('{}') must be poisson or gamma", o.arrival));
  constexpr std::string_view c = "cli::serve";
  const std::string format = o.trace.empty() || o.format_set ? o.format : trace_format(o.trace);
  if (format == "synthetic" && !o.trace.empty())
    throw config_error(c, "trace",
                       fmt::format("('{}') needs --format mooncake, azure or lengths: --format "
                                   "synthetic generates its requests",
                                   o.trace));
  if (o.rate_set && (format == "mooncake" || format == "azure"))
    throw config_error(c, "rate",
                       fmt::format("({}) applies to lengths and synthetic workloads: a {} trace "
                                   "has its own timestamps (--time-scale scales them)",
                                   o.rate, format));
  if (o.requests_set && format != "synthetic" && o.concurrency == 0)
    throw config_error(c, "requests",
                       fmt::format("({}) applies to synthetic workloads and closed loops: "
                                   "--max-requests keeps the first N requests of a trace",
                                   o.requests));
  check_non_negative(c, "max-requests", o.max_requests); // 0: all
  // Traces are streamed: only the requests kept are read and held.
  const std::size_t limit = o.max_requests > 0 ? static_cast<std::size_t>(o.max_requests)
                                               : std::numeric_limits<std::size_t>::max();
  io::workload w;
  if (format == "synthetic") {
    check_positive(c, "requests", o.requests);
    w = io::synthetic_workload({.requests = static_cast<std::size_t>(std::max(o.requests, 0LL)),
                                .arrivals = arrivals,
                                .input_tokens = o.input_tokens,
                                .output_tokens = o.output_tokens},
                               o.seed);
  } else {
    if (o.trace.empty())
      throw config_error("cli::serve", "trace",
                         fmt::format("(none) is needed with --format {}", o.format));
    if (format == "mooncake")
      w = io::read_mooncake_workload(o.trace, limit);
    else if (format == "azure")
      w = io::read_azure_workload(o.trace, limit);
    else if (format == "lengths")
      w = io::read_lengths_workload(o.trace, arrivals, o.seed, limit);
    else
      throw config_error(
          "cli::serve", "format",
          fmt::format("('{}') must be mooncake, azure, lengths or synthetic", format));
  }
  if (o.max_requests > 0)
    w = io::take(std::move(w), static_cast<std::size_t>(o.max_requests));
  if (o.time_scale != 1.0)
    w = io::scale_time(std::move(w), o.time_scale);
  return w;
}

/// Closed-loop clients at most: as many as devices (max_devices).
constexpr long long max_clients = max_devices;

/// @throws config_error naming the flag when an instance or client count is negative or too
/// large, or when the deployment holds more than max_devices devices.
void check_sizes(const serve_options& o) {
  constexpr std::string_view c = "cli::serve";
  check_count(c, "devices-per-instance", o.devices_per_instance, max_devices);
  check_count(c, "concurrency", o.concurrency, max_clients);
  auto total = [&](std::string_view flag, long long instances) {
    check_count(c, flag, instances, max_devices);
    return instances * o.devices_per_instance; // both <= 1e6: no overflow
  };
  if (o.mode == "pd") {
    const long long prefill = total("prefill-instances", o.prefill_instances);
    const long long devices = prefill + total("decode-instances", o.decode_instances);
    if (devices > max_devices)
      throw config_error(c, "prefill-instances",
                         fmt::format("({}) + decode-instances ({}), each of "
                                     "devices-per-instance ({}) devices, = {} devices must be at "
                                     "most {}",
                                     o.prefill_instances, o.decode_instances,
                                     o.devices_per_instance, devices, max_devices));
  } else if (const long long devices = total("instances", o.instances); devices > max_devices) {
    throw config_error(c, "instances",
                       fmt::format("({}) × devices-per-instance ({}) = {} devices must be at "
                                   "most {}",
                                   o.instances, o.devices_per_instance, devices, max_devices));
  }
}

/// The layout of an instance on the device named `device` (its engine profile is that device's).
engine::parallel_layout layout_of(const serve_options& o, const model::model_config& m,
                                  const std::string& device) {
  const precision p =
      o.precision.empty() ? serving_precision(make_device(device)) : parse_precision(o.precision);
  const int k = o.devices_per_instance;
  // 0 picks the default; a negative degree is an error, never the default.
  check_non_negative("cli::serve", "tp", o.tp);
  check_non_negative("cli::serve", "ep", o.ep);
  return {.devices = k,
          .tp = o.tp > 0 ? o.tp : (o.dp_attention ? 1 : k),
          .dp_attention = o.dp_attention,
          .ep = o.ep > 0 ? o.ep : (m.is_moe() ? k : 1),
          .micro_batches = o.micro_batches,
          .weight_prec = p,
          .attention_prec = engine::attention_precision_for(p),
          .kv_prec = parse_precision(o.kv_precision),
          .dispatch_prec = p,
          .combine_prec = precision::bf16,
          .mtp_draft = o.mtp,
          .overheads = engine_profile_for(o.engine, device, o.calibration)};
}

serving::cluster_config config_of(const serve_options& o, const model::model_config& m) {
  if (o.slo_ttft_s.empty() || o.slo_tpot_s.empty())
    throw config_error("cli::serve", "slo", "(none) needs at least one TTFT and one TPOT value");
  // The MTP module only drafts: without draft tokens it would change the KV capacity and nothing
  // else.
  if (o.mtp && o.speculative_tokens < 1)
    throw config_error("cli::serve", "mtp",
                       "(set) needs --speculative-tokens >= 1: the MTP module drafts them");
  const engine::parallel_layout l = layout_of(o, m, o.device);
  serving::cluster_config c{
      .mode = serving::parse_serving_mode(o.mode),
      .colocated = {.instances = o.instances,
                    .layout = l,
                    .scheduler = {.max_batched_tokens = o.max_batched_tokens}},
      .prefill = {.instances = o.prefill_instances,
                  .layout = layout_of(o, m, o.prefill_device.empty() ? o.device : o.prefill_device),
                  .scheduler = {.max_batched_tokens = o.prefill_max_batched_tokens}},
      .decode = {.instances = o.decode_instances,
                 .layout = layout_of(o, m, o.decode_device.empty() ? o.device : o.decode_device),
                 .scheduler = {.max_batched_tokens = o.max_batched_tokens}},
      .cache = {.enabled = o.prefix_cache, .hbm_fraction = o.cache_hbm_fraction},
      .speculative = {.gamma = o.speculative_tokens, .alpha = o.acceptance},
      .objective = {.ttft_s = o.slo_ttft_s.front(), .tpot_s = o.slo_tpot_s.front()}};
  if (!o.draft_model.empty())
    c.speculative.draft = model::presets::find(o.draft_model);
  return c;
}

/// The serving policies the flags choose.
serving::policy_values<serving::runtime_policies> policies_of(const serve_options& o) {
  constexpr std::string_view c = "cli::serve";
  serving::policy_values<serving::runtime_policies> p;
  p.balancer = serving::parse_balancer(o.balancer);
  if (o.admission == "length_threshold")
    p.admission = serving::length_threshold{.threshold_tokens = o.pd_threshold};
  else if (o.admission == "always")
    p.admission = serving::always_disaggregate{};
  else if (o.admission == "load_aware")
    p.admission =
        serving::load_aware{.threshold_tokens = o.pd_threshold, .backlog_factor = o.backlog_factor};
  else
    throw config_error(
        c, "admission",
        fmt::format("('{}') must be length_threshold, always or load_aware", o.admission));
  if (o.batching == "fcfs")
    p.batching = serving::fcfs{};
  else if (o.batching == "deadline_first")
    p.batching = serving::deadline_first{.ttft_objective_s = o.slo_ttft_s.front()};
  else
    throw config_error(c, "batching",
                       fmt::format("('{}') must be fcfs or deadline_first", o.batching));
  if (o.kv_transfer == "whole_prompt")
    p.transfer = serving::whole_prompt{};
  else if (o.kv_transfer == "layer_wise")
    p.transfer = serving::layer_wise{};
  else
    throw config_error(c, "kv-transfer",
                       fmt::format("('{}') must be whole_prompt or layer_wise", o.kv_transfer));
  return p;
}

/// A text progress bar on stderr.
serving::progress_callback progress_bar() {
  return [](std::size_t done, std::size_t total) {
    constexpr int width = 40;
    const double f = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const int filled = static_cast<int>(f * width);
    fmt::print(stderr, "\r[{}{}] {:5.1f}% {}/{} requests", std::string(filled, '#'),
               std::string(width - filled, '.'), 100.0 * f, done, total);
    if (done == total)
      fmt::print(stderr, "\n");
    std::fflush(stderr);
  };
}

/// One latency row; "n/a" when no request had the value (JSON writes null).
void print_summary(const stats::summary& s, const char* name, double scale, const char* unit) {
  if (s.count == 0) {
    fmt::print("  {:<10} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n", name, "n/a", "n/a", "n/a", "n/a",
               "n/a", unit);
    return;
  }
  fmt::print("  {:<10} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}  {}\n", name, s.mean * scale,
             s.p50 * scale, s.p90 * scale, s.p99 * scale, s.max * scale, unit);
}

/// The closed loop the flags ask for, or none (open loop).
/// @throws config_error for closed-loop flags without --concurrency.
std::optional<serving::closed_loop> closed_loop_of(const serve_options& o) {
  if (o.concurrency == 0) {
    constexpr std::string_view c = "cli::serve";
    if (o.warmup != 0)
      throw config_error(c, "warmup", fmt::format("({}) needs --concurrency", o.warmup));
    if (o.cooldown != 0)
      throw config_error(c, "cooldown", fmt::format("({}) needs --concurrency", o.cooldown));
    if (o.think_time_s != 0.0)
      throw config_error(c, "think-time", fmt::format("({}) needs --concurrency", o.think_time_s));
    if (o.ramp_up_s != 0.0)
      throw config_error(c, "ramp-up", fmt::format("({}) needs --concurrency", o.ramp_up_s));
    return std::nullopt;
  }
  // --rate caps the sends as `vllm bench serve --request-rate` does with --max-concurrency; gamma
  // gaps of coefficient of variation cv have shape (its --burstiness) 1/cv².
  const bool gamma = o.rate_set && o.arrival == "gamma";
  if (gamma)
    check_positive("cli::serve", "cv", o.cv);
  // Synthetic workloads have --requests requests; a trace's are cycled up to --requests if given.
  return serving::closed_loop{.clients = o.concurrency,
                              .requests = o.requests_set ? o.requests : 0,
                              .warmup = o.warmup,
                              .cooldown = o.cooldown,
                              .think_time_s = o.think_time_s,
                              .ramp_up_s = o.ramp_up_s,
                              .request_rate = o.rate_set ? o.rate : 0.0,
                              .burstiness = gamma ? 1.0 / (o.cv * o.cv) : 1.0};
}

void print_report(const serving::report& r, const serve_options& o) {
  fmt::print("{} on {} x {} ({}, {} balancer): {} requests of '{}'\n", r.model, r.devices, r.device,
             r.mode, r.balancer, r.arrived, r.workload);
  // The requests the statistics cover: all, or a closed loop's measured ones.
  std::span<const serving::request_record> measured(r.requests);
  if (const auto& l = r.closed_loop) {
    measured = measured.subspan(static_cast<std::size_t>(l->first_measured),
                                static_cast<std::size_t>(l->measured));
    fmt::print("  closed loop: {} clients, {} requests issued ({} completed, {} rejected), "
               "think time {} s, at most {} in flight\n",
               l->clients, l->issued, l->completed, l->rejected, l->think_time_s, l->max_in_flight);
    if (l->request_rate > 0.0)
      fmt::print("  sends capped at {} requests/s (burstiness {})\n", l->request_rate,
                 l->burstiness);
    fmt::print("  measured requests {}..{} (warm-up {}, cool-down {}) over {:.1f}..{:.1f} s of a "
               "{:.1f} s run\n",
               l->first_measured, l->first_measured + l->measured - 1, l->warmup, l->cooldown,
               r.start_s, r.end_s, l->run_s);
  }
  fmt::print("  completed {}  rejected {}", r.completed, r.rejected);
  for (const serving::rejection_reason why : serving::all_rejection_reasons)
    if (const auto n = r.rejected_by[static_cast<std::size_t>(why)]; n > 0)
      fmt::print(" ({} {})", n, serving::to_string(why));
  fmt::print("  preemptions {}\n", r.preemptions);
  fmt::print("  makespan {:.1f} s  ({} steps, {} events)\n\n", r.makespan_s, r.steps, r.events);
  fmt::print("  {:<10} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "latency", "mean", "p50", "p90", "p99",
             "max");
  print_summary(r.latency.ttft_s, "TTFT", 1.0, "s");
  print_summary(r.latency.tpot_s, "TPOT", 1e3, "ms");
  print_summary(r.latency.e2e_s, "E2E", 1.0, "s");
  print_summary(r.latency.queue_s, "queueing", 1.0, "s");
  fmt::print("\n  goodput (requests/s meeting both SLOs, share of all requests)\n");
  fmt::print("  {:>9} {:>9} {:>12} {:>10}\n", "TTFT s", "TPOT ms", "requests/s", "attained");
  for (const double ttft : o.slo_ttft_s)
    for (const double tpot : o.slo_tpot_s) {
      const serving::goodput_result g =
          serving::goodput(measured, {.ttft_s = ttft, .tpot_s = tpot}, r.makespan_s);
      fmt::print("  {:>9.3f} {:>9.1f} {:>12.3f} {:>9.1f}%\n", ttft, tpot * 1e3, g.requests_per_s,
                 100.0 * g.attainment);
    }
  fmt::print("\n  throughput per device   input {:.0f} tok/s, output {:.1f} tok/s",
             r.input_tokens_per_s_per_device, r.output_tokens_per_s_per_device);
  if (r.mode == "pd")
    fmt::print("  (prefill pool {:.0f} in, decode pool {:.1f} out)",
               r.prefill_input_tokens_per_s_per_device, r.decode_output_tokens_per_s_per_device);
  fmt::print("\n  utilisation {:.1f}%   mean requests in system {:.1f}\n",
             100.0 * r.mean_utilisation, r.mean_in_system);
  if (r.kv_transfers > 0)
    fmt::print("  KV transfers {}  {:.2f} GB  time p50 {:.2f} ms p99 {:.2f} ms\n", r.kv_transfers,
               r.kv_bytes_transferred / 1e9, r.transfer_s.p50 * 1e3, r.transfer_s.p99 * 1e3);
  if (r.cache.enabled)
    fmt::print("  prefix cache: block hit rate {:.1f}% (HBM {:.1f}%, DRAM {:.1f}%, SSD {:.1f}%), "
               "loaded {:.2f} GB\n",
               100.0 * r.cache.block_hit_rate(), 100.0 * r.cache.block_hit_rate(0),
               100.0 * r.cache.block_hit_rate(1), 100.0 * r.cache.block_hit_rate(2),
               r.cache.load_bytes / 1e9);
  const serving::usage& u = r.use;
  fmt::print("\n  device-hours  prefill {:.2f}  cache load {:.2f}  decode {:.2f}  idle {:.2f}\n",
             u.prefill_device_s / 3600, u.cache_load_device_s / 3600, u.decode_device_s / 3600,
             u.idle_device_s / 3600);
  fmt::print("  tokens        input hit {}  input miss {}  output {}\n", u.input_hit_tokens,
             u.input_miss_tokens, u.output_tokens);
}

int run_serve(const serve_options& o) {
  check_sizes(o);
  const model::model_config m = model_of(o.model);
  const any_device prefill =
      device_of(o.prefill_device.empty() ? o.device : o.prefill_device, o.devices_per_node);
  const any_device decode =
      device_of(o.decode_device.empty() ? o.device : o.decode_device, o.devices_per_node);
  if ((!o.prefill_device.empty() || !o.decode_device.empty()) && o.mode != "pd")
    throw config_error("cli::serve", "prefill-device",
                       "(set) needs --mode pd: a colocated pool has one device type (--device)");
  serving::basic_cluster<any_device, serving::runtime_policies> cluster(
      m, config_of(o, m), {}, prefill, decode, policies_of(o));
  std::optional<std::ofstream> csv;
  if (!o.csv.empty())
    csv = open_output("cli::serve", "csv", o.csv);
  const io::workload w = load_workload(o);
  const std::optional<serving::closed_loop> loop = closed_loop_of(o);
  const std::size_t issued =
      loop ? static_cast<std::size_t>(std::max<std::int64_t>(0, loop->issued(w.size()))) : w.size();
  const bool bar = o.progress || (!o.json && isatty(fileno(stderr)) && issued >= 5000);
  const serving::report r = loop ? cluster.run(w, *loop, o.seed, bar ? progress_bar() : nullptr)
                                 : cluster.run(w, o.seed, bar ? progress_bar() : nullptr);
  if (csv)
    *csv << serving::requests_csv(r);
  if (r.completed == 0)
    fmt::print(stderr,
               "infercost: warning: no request completed ({} of {} rejected): latency statistics "
               "are n/a (null in JSON) and goodput is 0\n",
               r.rejected, r.arrived);
  if (o.json) {
    std::cout << serving::to_json(r, o.requests_json) << '\n';
    return 0;
  }
  print_report(r, o);
  return 0;
}

} // namespace

command add_serve(CLI::App& app) {
  auto* sub = app.add_subcommand("serve", "Simulate a serving cluster replaying a request trace");
  auto o = std::make_shared<serve_options>();
  sub->add_option("--model", o->model, "Model preset (see `infercost models`)")
      ->capture_default_str();
  sub->add_option("--device", o->device, "Device (see `infercost devices`)")->capture_default_str();
  sub->add_option("--prefill-device", o->prefill_device,
                  "pd: device of the prefill pool (default: --device)");
  sub->add_option("--decode-device", o->decode_device,
                  "pd: device of the decode pool (default: --device)");
  sub->add_option("--trace", o->trace, "Trace file (Mooncake JSONL, Azure CSV or lengths CSV)");
  auto* format = sub->add_option("--format", o->format,
                                 "mooncake, azure, lengths or synthetic (with --trace, default: "
                                 "from the file: .jsonl is Mooncake, a .csv with a TIMESTAMP "
                                 "column Azure, another .csv lengths)")
                     ->capture_default_str();
  sub->add_option("--arrival", o->arrival, "lengths/synthetic: poisson or gamma arrivals")
      ->capture_default_str();
  auto* rate = sub->add_option("--rate", o->rate,
                               "lengths/synthetic: requests per second; with --concurrency, the "
                               "most requests sent per second (vllm bench serve --request-rate)")
                   ->capture_default_str();
  sub->add_option("--cv", o->cv, "gamma arrivals: coefficient of variation of the gaps")
      ->capture_default_str();
  sub->add_option("--time-scale", o->time_scale, "Replay at this many times the trace's rate")
      ->capture_default_str();
  sub->add_option("--max-requests", o->max_requests, "Keep only the first N requests (0: all)")
      ->capture_default_str();
  auto* requests =
      sub->add_option("--requests", o->requests,
                      "synthetic: number of requests; with --concurrency: requests issued in all "
                      "(a trace's are cycled; default: the trace's)")
          ->capture_default_str();
  sub->add_option("--input-tokens,--isl", o->input_tokens,
                  "synthetic: prompt tokens of every request")
      ->capture_default_str();
  sub->add_option("--output-tokens,--osl", o->output_tokens,
                  "synthetic: output tokens of every request")
      ->capture_default_str();
  sub->add_option("--concurrency", o->concurrency,
                  "Closed loop: this many clients, each sending its next request when its "
                  "previous one ends (arrival times are ignored; 0: replay the arrivals)")
      ->capture_default_str();
  sub->add_option("--warmup", o->warmup,
                  "Closed loop: first requests issued, left out of the statistics")
      ->capture_default_str();
  sub->add_option("--cooldown", o->cooldown,
                  "Closed loop: last requests issued, left out of the statistics")
      ->capture_default_str();
  sub->add_option("--think-time", o->think_time_s,
                  "Closed loop: seconds between a response and the client's next request")
      ->capture_default_str();
  sub->add_option("--ramp-up", o->ramp_up_s,
                  "Closed loop: seconds over which the clients' first requests are spread")
      ->capture_default_str();
  sub->add_option("--mode", o->mode, "colocated or pd")->capture_default_str();
  sub->add_option("--instances", o->instances, "colocated: instances")->capture_default_str();
  sub->add_option("--prefill-instances", o->prefill_instances, "pd: prefill instances")
      ->capture_default_str();
  sub->add_option("--decode-instances", o->decode_instances, "pd: decode instances")
      ->capture_default_str();
  sub->add_option("--devices-per-instance", o->devices_per_instance, "Devices per instance")
      ->capture_default_str();
  sub->add_option("--devices-per-node", o->devices_per_node,
                  "Devices per scale-up domain (0: the device's own)")
      ->capture_default_str();
  sub->add_option("--tp", o->tp,
                  "Tensor-parallel degree (default: devices per instance, or 1 "
                  "with --dp-attention)");
  sub->add_option("--ep", o->ep, "Expert-parallel degree (default: devices for MoE models)");
  sub->add_flag("--dp-attention", o->dp_attention, "Data-parallel attention groups");
  sub->add_option("--micro-batches", o->micro_batches, "Micro-batches overlapping communication")
      ->capture_default_str();
  sub->add_option("--precision", o->precision,
                  "Weight precision: bf16, fp8, int8 (W8A8), int4 (W4A8), fp4 (default: the one "
                  "the device serves: FP8 on parts with FP8 units, INT8 on Ascend)");
  sub->add_option("--kv-precision", o->kv_precision, "KV-cache precision")->capture_default_str();
  add_calibration_option(sub, o->calibration);
  sub->add_option("--engine", o->engine,
                  "Serving engine's own per-step costs: none (the roofline), trtllm, vllm, sglang")
      ->capture_default_str();
  sub->add_option("--max-batched-tokens", o->max_batched_tokens,
                  "Step token budget per attention group (colocated and decode instances)")
      ->capture_default_str();
  sub->add_option("--prefill-max-batched-tokens", o->prefill_max_batched_tokens,
                  "Step token budget per attention group of prefill instances")
      ->capture_default_str();
  sub->add_option("--pd-threshold", o->pd_threshold,
                  "pd: prompts longer than this go to the prefill pool, shorter ones are "
                  "prefilled on a decode instance (the article uses 4096)")
      ->capture_default_str();
  sub->add_option("--admission", o->admission,
                  "pd: which prompts go to the prefill pool: length_threshold (longer than "
                  "--pd-threshold), always, or load_aware (the threshold, unless the prefill pool "
                  "is backed up --backlog-factor times more than the decode pool)")
      ->capture_default_str();
  sub->add_option("--backlog-factor", o->backlog_factor, "load_aware: prefill-pool backlog factor")
      ->capture_default_str();
  sub->add_option("--batching", o->batching,
                  "fcfs (vLLM's first come first served) or deadline_first (TTFT deadlines from "
                  "the first --slo-ttft-s)")
      ->capture_default_str();
  sub->add_option("--kv-transfer", o->kv_transfer,
                  "pd: whole_prompt (after the prefill) or layer_wise (streamed during it)")
      ->capture_default_str();
  sub->add_option("--balancer", o->balancer,
                  "round_robin, least_loaded, power_of_two or cache_aware")
      ->capture_default_str();
  sub->add_flag("--prefix-cache", o->prefix_cache, "Tiered prefix cache (HBM, DRAM, SSD)");
  sub->add_option("--cache-hbm-fraction", o->cache_hbm_fraction,
                  "Share of KV HBM given to cached prefixes")
      ->capture_default_str();
  sub->add_option("--speculative-tokens", o->speculative_tokens,
                  "Draft tokens verified per step (0: off)")
      ->capture_default_str();
  sub->add_option("--acceptance", o->acceptance, "Per-token acceptance rate of drafts")
      ->capture_default_str();
  sub->add_option("--draft-model", o->draft_model, "Draft model preset (or use --mtp)");
  sub->add_flag("--mtp", o->mtp, "Draft with the model's MTP module");
  sub->add_option("--slo-ttft-s", o->slo_ttft_s,
                  "TTFT objective(s) in seconds; the first is the report's")
      ->capture_default_str();
  sub->add_option("--slo-tpot-s", o->slo_tpot_s,
                  "TPOT objective(s) in seconds; the first is the report's")
      ->capture_default_str();
  add_seed_option(sub, o->seed);
  sub->add_flag("--json", o->json, "Print the report as JSON");
  sub->add_flag("--json-requests", o->requests_json, "Include per-request records in the JSON");
  sub->add_option("--csv", o->csv, "Write per-request records to this CSV file");
  sub->add_flag("--progress", o->progress, "Progress bar on stderr (default: on a terminal)");
  return {sub, [o, requests, format, rate] {
            o->requests_set = requests->count() > 0;
            o->format_set = format->count() > 0;
            o->rate_set = rate->count() > 0;
            return run_serve(*o);
          }};
}

} // namespace infercost::cli
