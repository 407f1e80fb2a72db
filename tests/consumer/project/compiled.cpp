// A program that uses infercost's compiled mode: the simulation on any_device, the Mooncake
// reader and the JSON writer come from the infercost::compiled library.
#include <infercost/infercost.hpp>
#include <infercost/io/mooncake_trace.hpp>
#include <infercost/serving/report_json.hpp>

#include <fmt/core.h>

#ifndef INFERCOST_COMPILED
#error "infercost::compiled must define INFERCOST_COMPILED"
#endif

int main() {
  using namespace infercost;
  const io::workload w = io::from_mooncake(
      io::parse_mooncake_trace("{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 4}\n"
                               "{\"timestamp\": 5, \"input_length\": 900, \"output_length\": 3}\n",
                               "inline.jsonl"),
      "inline.jsonl");
  serving::basic_cluster<any_device> c(model::presets::llama3_8b(),
                                       {.colocated = {.layout = {.devices = 1, .tp = 1}}}, {},
                                       make_device("ascend_910b"));
  const serving::report r = c.run(w, 1);
  fmt::print("{}\n", serving::to_json(r).substr(0, 80));
  return r.completed == 2 ? 0 : 1;
}
