// Where tests find data: the samples the repository ships (examples/data, always there) and the
// public traces and measurements of the optional data folder (INFERCOST_DATA_DIR, ../shared/data
// by default; not part of a clone). A test that needs the data folder is tagged [data] and asks
// for its files with data_file(): when one is missing the test records a skip and returns, and
// the process exits with skip_return_code, which ctest reports as skipped.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

namespace infercost::test {

/// Exit status of a process whose data tests were skipped (tests/CMakeLists.txt gives it to ctest
/// as SKIP_RETURN_CODE).
inline constexpr int skip_return_code = 77;

namespace detail {
inline bool& skipped() {
  static bool s = false;
  return s;
}
} // namespace detail

/// Whether a data test of this process was skipped.
[[nodiscard]] inline bool data_skipped() { return detail::skipped(); }

/// The path of `relative` under the data folder, or nullopt when it is not there: then the test
/// is recorded as skipped (the reason is printed and counted as the test's one assertion), and
/// the caller returns.
[[nodiscard]] inline std::optional<std::string> data_file(std::string_view relative) {
  std::string path = std::string(INFERCOST_DATA_DIR) + "/" + std::string(relative);
  if (std::ifstream(path))
    return path;
  detail::skipped() = true;
  std::fprintf(stderr, "skipped: %s not found (the data folder is not part of a clone)\n",
               path.c_str());
  SUCCEED("skipped: " << path << " not found");
  return std::nullopt;
}

/// The path of a sample the repository ships under examples/data.
[[nodiscard]] inline std::string sample_file(std::string_view name) {
  return std::string(INFERCOST_SOURCE_DIR) + "/examples/data/" + std::string(name);
}

/// Writes `text` to a file named `name` in the temporary folder and returns its path (tests of
/// readers that take a path).
inline std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

} // namespace infercost::test
