// `infercost`: the command-line front end of the library.
// GCC 12 reports a false "potential null pointer dereference" inside CLI11 2.1.2's
// CLI::detail::split (std::vector<std::string>::emplace_back) once it is inlined into this file.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "commands.hpp"

#include <infercost/core/error.hpp>

#include <fmt/core.h>

#include <exception>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"infercost: what it costs to serve a large language model"};
  app.require_subcommand(1);
  const std::vector<infercost::cli::command> commands = infercost::cli::add_commands(app);
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& c : commands)
      if (c.app->parsed())
        return c.run();
  } catch (const infercost::error& e) {
    fmt::print(stderr, "infercost: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "infercost: internal error: {}\n", e.what());
    return 3;
  }
  return 0;
}
