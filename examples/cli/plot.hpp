// --plot: charts drawn by gnuplot from data and a script written into a folder.
#pragma once

#include <infercost/core/error.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace infercost::cli {

/// The folder `dir`, created, for `program`'s plots (`program` names it in messages, `area` in
/// errors); std::nullopt, with a message on stderr, when gnuplot is not on PATH.
/// @throws config_error naming "plot" when the folder cannot be created.
inline std::optional<std::filesystem::path>
open_plot_dir(std::string_view program, std::string_view area, const std::string& dir) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    fmt::print(stderr,
               "infercost {}: gnuplot is not on PATH; skipping --plot (install "
               "gnuplot-nox)\n",
               program);
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw config_error(area, "plot", fmt::format("('{}') cannot be created", dir));
  return std::filesystem::path(dir);
}

/// Writes `text` to `p`. @throws config_error naming "plot" when it cannot be written.
inline void write_plot_file(std::string_view area, const std::filesystem::path& p,
                            const std::string& text) {
  std::ofstream f(p);
  if (!f)
    throw config_error(area, "plot", fmt::format("('{}') cannot be written", p.string()));
  f << text;
}

/// Writes the gnuplot script `script` to `dir`/`name` and runs it there.
/// @throws config_error naming "plot" when it cannot be written or gnuplot fails.
inline void run_gnuplot(std::string_view area, const std::filesystem::path& dir,
                        std::string_view name, const std::string& script) {
  write_plot_file(area, dir / name, script);
  const std::string cmd = fmt::format("cd '{}' && gnuplot {}", dir.string(), name);
  if (std::system(cmd.c_str()) != 0)
    throw config_error(area, "plot", fmt::format("(gnuplot) failed in '{}'", dir.string()));
}

} // namespace infercost::cli
