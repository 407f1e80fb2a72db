// The command line of `infercost` on fuzz input, shared by the libFuzzer target
// (cli_options_fuzz.cpp) and the replay of its kept inputs (replay_main.cpp): the input's lines are
// the arguments after the program name; they are parsed by the real CLI11 app with every
// subcommand, and nothing is run. A parse either succeeds or raises CLI::Error (a ParseError:
// an unknown option, a bad value, --help); any other exception, a crash or undefined behaviour
// is a finding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace infercost::fuzz {

/// Parses `input`, split at '\n', as `infercost <lines...>`.
inline void cli_options(std::string_view input) {
  std::vector<std::string> args{"infercost"};
  for (std::size_t begin = 0; begin <= input.size();) {
    std::size_t end = input.find('\n', begin);
    if (end == std::string_view::npos)
      end = input.size();
    args.emplace_back(input.substr(begin, end - begin));
    begin = end + 1;
  }
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& a : args)
    argv.push_back(a.c_str());
  // One app for every input, as building it costs more than a parse; each parse starts by
  // clearing the previous one's results (CLI::App::parse calls clear()).
  static CLI::App app{"infercost"};
  static const std::vector<cli::command> commands = [] {
    app.require_subcommand(1);
    return cli::add_commands(app);
  }();
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
  }
}

} // namespace infercost::fuzz
