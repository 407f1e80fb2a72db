// Subcommands of the `infercost` command-line program. Each file in examples/cli/ adds one
// subcommand to the app and returns the function that runs it once parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace infercost::cli {

/// Runs a parsed subcommand; returns the process exit status.
using runner = std::function<int()>;

/// A registered subcommand and what runs it.
struct command {
  CLI::App* app;
  runner run;
};

command add_devices(CLI::App& app);
command add_models(CLI::App& app);
command add_step(CLI::App& app);
command add_serve(CLI::App& app);
command add_price(CLI::App& app);

} // namespace infercost::cli
