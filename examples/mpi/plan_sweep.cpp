// plan_sweep: a capacity-planning sweep split across MPI ranks. Every combination of a model, a
// device and a request rate is one plan (plan::planner on the shipped Mooncake sample, rescaled
// to the rate); rank r plans the combinations r, r + size, r + 2·size, ...; rank 0 gathers every
// plan and every analytic operating point, and prints the plans in combination order and the
// Pareto frontier of $ per million output tokens against tokens/s per user over all of them.
// The output does not depend on the number of ranks (each plan is deterministic and runs on one
// thread). Built only when CMake finds MPI (Debian: libopenmpi-dev, openmpi-bin):
//
//   mpirun -np 2 build/dev/examples/plan_sweep --models deepseek_v3,qwen3_235b_a22b
//     --devices h800_sxm,h200_sxm --rates 3,12
//
// GCC 12 reports a false "potential null pointer dereference" inside CLI11 2.1.2's
// CLI::detail::split once it is inlined into this file (as in the cli/main.cpp program).
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <mpi.h>

#include <infercost/core/error.hpp>
#include <infercost/device/any_device.hpp>
#include <infercost/econ/tco.hpp>
#include <infercost/io/mooncake_trace.hpp>
#include <infercost/model/presets.hpp>
#include <infercost/plan/planner.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace ic = infercost;

namespace {

/// One combination of the sweep.
struct job {
  std::string model;
  std::string device;
  double rate = 0.0;
};

/// The plan of one combination as text lines: "plan|..." for the plan, "point|..." per analytic
/// operating point (fields separated by '|').
std::string run_job(const job& j, const std::string& trace, std::size_t max_requests) {
  ic::io::workload w = ic::io::read_mooncake_workload(trace);
  if (max_requests > 0)
    w = ic::io::take(std::move(w), max_requests);
  const double own = ic::plan::load_summary::of(w).requests_per_s;
  w = ic::io::scale_time(std::move(w), j.rate / own);
  ic::plan::search_space s;
  const ic::any_device d = ic::make_device(j.device);
  s.devices.push_back({.device = d,
                       .usd_per_device_hour = ic::econ::default_rate(j.device).usd_per_device_hour,
                       .rate_source = "econ::default_rate",
                       .weights = ic::serving_precision(d)});
  s.threads = 1;
  const ic::plan::planner p(ic::model::presets::find(j.model), s, {}, w);
  const ic::plan::result r = p.search();
  std::string out;
  if (r.best) {
    const auto price = r.best->sheet.usd_per_mtok();
    out += fmt::format("plan|{}|{}|{}|{}|{:.2f}|{:.4f}|{}\n", j.model, j.device, j.rate,
                       r.best->d.devices(), r.best->usd_per_hour, price.output.value_or(0.0),
                       ic::plan::describe(s, r.best->d));
  } else {
    out += fmt::format("plan|{}|{}|{}|0|0|0|no deployment meets the objectives\n", j.model,
                       j.device, j.rate);
  }
  for (const ic::plan::frontier_point& f : r.points)
    out += fmt::format("point|{} {} @{}/s: {}|{}|{}|{}|{}\n", j.model, j.device, j.rate, f.shape,
                       f.batch_per_group, f.user_tokens_per_s, f.tokens_per_s_per_device,
                       f.usd_per_million_output);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string field; std::getline(in, field, sep);)
    out.push_back(field);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CLI::App app{"plan_sweep: capacity plans of models x devices x rates, split across MPI ranks"};
  std::vector<std::string> models{"deepseek_v3"};
  std::vector<std::string> devices{"h800_sxm", "h200_sxm"};
  std::vector<double> rates{3.0};
  std::string trace = INFERCOST_EXAMPLES_DIR "/data/mooncake_conversation_2000.jsonl";
  std::size_t max_requests = 0;
  app.add_option("--models", models, "Model presets")->delimiter(',')->capture_default_str();
  app.add_option("--devices", devices, "Devices (each planned alone)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rates", rates, "Request rates (requests/s) the trace is rescaled to")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--trace", trace, "Mooncake trace")->capture_default_str();
  app.add_option("--max-requests", max_requests, "Keep the first N requests (0: all)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = rank == 0 ? app.exit(e) : 1;
    MPI_Finalize();
    return status;
  }
  std::vector<job> jobs;
  for (const std::string& m : models)
    for (const std::string& d : devices)
      for (const double r : rates)
        jobs.push_back({m, d, r});

  // This rank's plans, one text block each (an error's message stands in for a plan).
  std::string mine;
  for (std::size_t k = static_cast<std::size_t>(rank); k < jobs.size();
       k += static_cast<std::size_t>(size)) {
    try {
      mine += fmt::format("job|{}\n", k) + run_job(jobs[k], trace, max_requests);
    } catch (const ic::error& e) {
      mine += fmt::format("job|{}\nerror|{}\n", k, e.what());
    }
  }
  // Gather the texts on rank 0.
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size));
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> offsets(static_cast<std::size_t>(size), 0);
  int total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[static_cast<std::size_t>(r)] = total;
    total += lengths[static_cast<std::size_t>(r)];
  }
  std::string all(static_cast<std::size_t>(rank == 0 ? total : 0), '\0');
  MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
              0, MPI_COMM_WORLD);
  if (rank == 0) {
    // Plans in combination order, whatever rank ran them.
    std::vector<std::vector<std::string>> by_job(jobs.size());
    std::vector<ic::plan::frontier_point> points;
    std::size_t current = 0;
    for (const std::string& line : split(all, '\n')) {
      const std::vector<std::string> f = split(line, '|');
      if (f.empty())
        continue;
      if (f[0] == "job") {
        current = std::stoul(f[1]);
      } else if (f[0] == "point" && f.size() == 6) {
        points.push_back({.shape = f[1],
                          .user_tokens_per_s = std::stod(f[3]),
                          .tokens_per_s_per_device = std::stod(f[4]),
                          .usd_per_million_output = std::stod(f[5]),
                          .batch_per_group = std::stoi(f[2])});
      } else {
        by_job[current].push_back(line);
      }
    }
    fmt::print("plan_sweep: {} plans on {} rank(s)\n", jobs.size(), size);
    fmt::print("{:<18} {:<14} {:>6} {:>7} {:>9} {:>9}  {}\n", "model", "device", "req/s", "devices",
               "$/hour", "$/M out", "deployment");
    for (std::size_t k = 0; k < jobs.size(); ++k)
      for (const std::string& line : by_job[k]) {
        const std::vector<std::string> f = split(line, '|');
        if (f[0] == "error")
          fmt::print("{:<18} {:<14} {:>6} error: {}\n", jobs[k].model, jobs[k].device, jobs[k].rate,
                     f.size() > 1 ? f[1] : "");
        else if (f.size() == 8)
          fmt::print("{:<18} {:<14} {:>6} {:>7} {:>9} {:>9}  {}\n", f[1], f[2], f[3], f[4], f[5],
                     f[6], f[7]);
      }
    // Points are gathered in rank order; sort them into a rank-independent order first.
    std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) {
      return std::tie(a.shape, a.batch_per_group) < std::tie(b.shape, b.batch_per_group);
    });
    const std::vector<ic::plan::frontier_point> frontier =
        ic::plan::cost_frontier(std::move(points));
    fmt::print("\ncost frontier over every plan ($/M output, all device time, against tokens/s "
               "per user):\n");
    for (const ic::plan::frontier_point& p : frontier)
      fmt::print("  {:>8.1f} tok/s/user  {:>9.3f} $/M out  batch {:>4}  {}\n", p.user_tokens_per_s,
                 p.usd_per_million_output, p.batch_per_group, p.shape);
  }
  MPI_Finalize();
  return 0;
}
