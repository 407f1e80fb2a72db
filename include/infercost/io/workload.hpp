/// @file
/// Workloads (the type is in io/workload_types.hpp): readers for the public traces in shared/data
/// and generators:
///
/// - Mooncake JSON Lines (`timestamp` ms, lengths, `hash_ids` of 512-token blocks): in
///   io/mooncake_trace.hpp (it parses JSON with nlohmann::json; include it where it is needed).
/// - Azure LLM inference CSV (`TIMESTAMP` like "2023-11-16 18:15:46.6805900", `ContextTokens`,
///   `GeneratedTokens`): timestamps are parsed to seconds after the first request, exactly
///   (integer nanoseconds, so no precision is lost to the epoch offset).
/// - Length-only CSVs (`num_prefill_tokens`, `num_decode_tokens`; ShareGPT, arXiv
///   summarisation) given Poisson or gamma arrivals at a rate, seeded.
/// - Synthetic requests with fixed or uniform lengths and optional shared prefixes.
/// - Time scaling (replay at k× the rate) and truncation.
///
/// Bad traces raise `trace_error` naming file, line and column; bad parameters and invalid
/// workloads raise `config_error`. Arrivals are in seconds from the start of the workload.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/io/csv.hpp"
#include "infercost/io/workload_types.hpp"

namespace infercost::io {

namespace detail {

/// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms", days_from_civil).
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m,
                                                     unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

[[nodiscard]] constexpr bool is_leap(std::int64_t y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

[[nodiscard]] constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/// Parses field `col` of a CSV row as an integer that must be >= 0; errors name the field.
[[nodiscard]] inline std::int64_t non_negative_integer(const std::string& file,
                                                       const std::vector<std::string>& header,
                                                       const csv_row& row, std::size_t col) {
  const std::string& s = row.fields[col];
  const char* first = s.data();
  const char* last = s.data() + s.size();
  while (first < last && *first == ' ')
    ++first;
  while (last > first && last[-1] == ' ')
    --last;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(first, last, v);
  const std::string& name = header[col];
  if (ec == std::errc::result_out_of_range)
    throw trace_error(file, row.line, row.columns[col],
                      fmt::format("column '{}': '{}' is too large", name, s));
  if (ec != std::errc{} || ptr != last || first == last) {
    // A number with a fraction or exponent: say it is not an integer; otherwise not a number.
    double d = 0.0;
    const auto [p2, e2] = std::from_chars(first, last, d);
    throw trace_error(file, row.line, row.columns[col],
                      e2 == std::errc{} && p2 == last && first != last
                          ? fmt::format("column '{}': '{}' must be an integer", name, s)
                          : fmt::format("column '{}': '{}' is not a number", name, s));
  }
  if (v < 0)
    throw trace_error(file, row.line, row.columns[col],
                      fmt::format("column '{}': {} must be >= 0", name, v));
  return v;
}

/// Parses field `col` of a CSV row as a prompt length (an integer >= 1).
[[nodiscard]] inline std::int64_t prompt_length(const std::string& file,
                                                const std::vector<std::string>& header,
                                                const csv_row& row, std::size_t col) {
  const std::int64_t in = non_negative_integer(file, header, row, col);
  if (in < 1)
    throw trace_error(file, row.line, row.columns[col],
                      fmt::format("column '{}': {} must be >= 1", header[col], in));
  return in;
}

/// Throws trace_error at `row` when a trace already holds io::max_requests requests.
inline void check_request_count(const std::string& file, const csv_row& row, std::size_t n) {
  if (n >= max_requests)
    throw trace_error(file, row.line, 1,
                      fmt::format("more than {} requests (io::max_requests)", max_requests));
}

/// A timestamp split into whole seconds since 1970-01-01 00:00:00 and nanoseconds [0, 1e9).
struct timestamp_parts {
  std::int64_t seconds = 0;
  std::int64_t nanoseconds = 0;
};

/// Parses a timestamp; see io::parse_timestamp_ns. Four-digit years keep `seconds` within
/// about ±3.2e11, far from overflow.
[[nodiscard]] inline timestamp_parts parse_timestamp(std::string_view s, const std::string& file,
                                                     std::size_t line, std::size_t column) {
  std::size_t pos = 0;
  auto fail = [&](std::string_view what) {
    throw trace_error(file, line, column + pos, fmt::format("timestamp '{}': {}", s, what));
  };
  auto digits = [&](std::size_t n, std::string_view what) {
    std::int64_t v = 0;
    for (std::size_t i = 0; i < n; ++i, ++pos) {
      if (pos >= s.size() || s[pos] < '0' || s[pos] > '9')
        fail(fmt::format("expected {} digits of the {}", n, what));
      v = v * 10 + (s[pos] - '0');
    }
    return v;
  };
  auto sep = [&](char a, char b, std::string_view what) {
    if (pos >= s.size() || (s[pos] != a && s[pos] != b))
      fail(fmt::format("expected '{}' {}", a, what));
    ++pos;
  };
  while (pos < s.size() && s[pos] == ' ')
    ++pos;
  const std::int64_t year = digits(4, "year");
  sep('-', '-', "after the year");
  const std::size_t month_pos = pos;
  const std::int64_t month = digits(2, "month");
  sep('-', '-', "after the month");
  const std::size_t day_pos = pos;
  const std::int64_t day = digits(2, "day");
  sep(' ', 'T', "between date and time");
  const std::size_t hour_pos = pos;
  const std::int64_t hour = digits(2, "hour");
  sep(':', ':', "after the hour");
  const std::size_t minute_pos = pos;
  const std::int64_t minute = digits(2, "minute");
  sep(':', ':', "after the minute");
  const std::size_t second_pos = pos;
  const std::int64_t second = digits(2, "second");
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        frac_ns = frac_ns * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (pos == start)
      fail("expected digits after '.'");
    for (; n < 9; ++n)
      frac_ns *= 10;
  }
  while (pos < s.size() && s[pos] == ' ')
    ++pos;
  if (pos < s.size())
    fail("unexpected characters after the time");
  auto range = [&](std::size_t at, std::int64_t v, std::int64_t lo, std::int64_t hi,
                   std::string_view what) {
    if (v < lo || v > hi) {
      pos = at;
      fail(fmt::format("{} ({}) must be in [{}, {}]", what, v, lo, hi));
    }
  };
  range(month_pos, month, 1, 12, "month");
  range(day_pos, day, 1, days_in_month(year, static_cast<unsigned>(month)), "day");
  range(hour_pos, hour, 0, 23, "hour");
  range(minute_pos, minute, 0, 59, "minute");
  range(second_pos, second, 0, 59, "second");
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return {.seconds = ((days * 24 + hour) * 60 + minute) * 60 + second, .nanoseconds = frac_ns};
}

} // namespace detail

/// A timestamp "YYYY-MM-DD HH:MM:SS[.fraction]" (or 'T' between date and time) as integer
/// nanoseconds since 1970-01-01 00:00:00 (UTC assumed, no leap seconds; up to 9 fraction digits
/// are kept, further digits truncated). `file`, `line` and `column` (of the cell) label errors.
/// @throws trace_error naming the column of the offending character, or the timestamp when it
/// lies outside what int64 nanoseconds hold (1677-09-21 to 2262-04-11).
[[nodiscard]] inline std::int64_t parse_timestamp_ns(std::string_view s, const std::string& file,
                                                     std::size_t line, std::size_t column) {
  constexpr std::int64_t giga = 1'000'000'000;
  const detail::timestamp_parts t = detail::parse_timestamp(s, file, line, column);
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  if (t.seconds > (max - t.nanoseconds) / giga || t.seconds < min / giga)
    throw trace_error(file, line, column,
                      fmt::format("timestamp '{}': outside 1677-09-21..2262-04-11, the range of "
                                  "int64 nanoseconds since 1970",
                                  s));
  return t.seconds * giga + t.nanoseconds;
}

/// Column names of the Azure LLM inference traces (Azure/AzurePublicDataset,
/// AzureLLMInferenceDataset2023.md).
inline constexpr std::string_view azure_timestamp_column = "TIMESTAMP";
inline constexpr std::string_view azure_input_column = "ContextTokens";
inline constexpr std::string_view azure_output_column = "GeneratedTokens";

namespace detail {

/// Azure rows to requests, one row at a time: arrivals are exact differences of the rows'
/// timestamps from the first row's, held to io::max_time_s.
class azure_rows {
public:
  azure_rows(std::string file, const std::vector<std::string>& header, std::size_t ct,
             std::size_t ci, std::size_t co)
      : file_(std::move(file)), header_(header), ct_(ct), ci_(ci), co_(co) {}

  /// Request `id` from `row`. @throws trace_error naming the row's line and the field.
  [[nodiscard]] workload_request operator()(const csv_row& row, std::size_t id) {
    const std::string& text = row.fields[ct_];
    const timestamp_parts t = parse_timestamp(text, file_, row.line, row.columns[ct_]);
    if (id == 0) {
      first_ = prev_ = t;
      first_text_ = text;
    }
    if (t.seconds < prev_.seconds ||
        (t.seconds == prev_.seconds && t.nanoseconds < prev_.nanoseconds))
      throw trace_error(file_, row.line, row.columns[ct_],
                        fmt::format("timestamp '{}' is before the previous row's", text));
    prev_ = t;
    // t >= first, so the difference is >= 0; bounded by max_time_s (1e9 s) before it is scaled
    // to nanoseconds, it stays far below 2^63 ns.
    const std::int64_t ds = t.seconds - first_.seconds;
    if (ds > static_cast<std::int64_t>(max_time_s))
      throw trace_error(
          file_, row.line, row.columns[ct_],
          fmt::format("timestamp '{}' is {} s after the first row's ('{}'): arrivals must be at "
                      "most {:.0f} s (about 31.7 years) after the first (io::max_time_s)",
                      text, ds, first_text_, max_time_s));
    const std::int64_t ns = ds * 1'000'000'000 + (t.nanoseconds - first_.nanoseconds);
    return {.id = static_cast<std::int64_t>(id),
            .arrival_s = static_cast<double>(ns) * 1e-9,
            .input_tokens = prompt_length(file_, header_, row, ci_),
            .output_tokens = non_negative_integer(file_, header_, row, co_),
            .block_hashes = {}};
  }

private:
  std::string file_;
  std::vector<std::string> header_;
  std::size_t ct_, ci_, co_;
  timestamp_parts first_{}, prev_{};
  std::string first_text_;
};

/// Reads up to `limit` rows of `in` into a workload with `make(row, id)`.
/// @throws trace_error for an empty trace or more than io::max_requests rows.
template <class Make>
[[nodiscard]] workload read_rows(csv_reader& in, std::size_t limit, Make&& make) {
  workload w{.name = in.file(), .requests = {}, .block_tokens = mooncake_block_tokens};
  csv_row row;
  while (w.requests.size() < limit && in.next(row)) {
    check_request_count(in.file(), row, w.requests.size());
    w.requests.push_back(make(row, w.requests.size()));
  }
  if (w.requests.empty() && limit > 0)
    throw trace_error(in.file(), 2, 1, "empty trace: no requests after the header");
  return w;
}

} // namespace detail

/// An Azure trace already read as CSV: arrivals are seconds after the first row's timestamp.
/// @throws trace_error for a missing column, an empty trace, a bad timestamp, a timestamp
/// before the previous row's or more than io::max_time_s after the first row's, a prompt < 1
/// token or a negative or non-integer length.
[[nodiscard]] inline workload from_azure_csv(const csv_table& t) {
  // Columns looked up in order, so that the first missing one is named.
  const std::size_t ct = t.column(azure_timestamp_column);
  const std::size_t ci = t.column(azure_input_column);
  const std::size_t co = t.column(azure_output_column);
  detail::azure_rows make(t.file(), t.header(), ct, ci, co);
  if (t.rows() == 0)
    throw trace_error(t.file(), 2, 1, "empty trace: no requests after the header");
  workload w{.name = t.file(), .requests = {}, .block_tokens = mooncake_block_tokens};
  w.requests.reserve(t.rows());
  for (std::size_t r = 0; r < t.rows(); ++r)
    w.requests.push_back(make(t.row(r), r));
  return w;
}

/// Reads the first `limit` requests (all by default) of an Azure LLM inference trace CSV,
/// streaming it: memory holds the requests kept, not the file. @throws trace_error as
/// from_azure_csv, and for a directory, an unreadable file or more than io::max_requests rows.
[[nodiscard]] inline workload
read_azure_workload(const std::string& path,
                    std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  csv_reader in(path);
  const std::size_t ct = in.column(azure_timestamp_column);
  const std::size_t ci = in.column(azure_input_column);
  const std::size_t co = in.column(azure_output_column);
  detail::azure_rows make(path, in.header(), ct, ci, co);
  return detail::read_rows(in, limit, make);
}

/// Inter-arrival law of a generated workload.
enum class arrival_process {
  poisson, ///< exponential gaps (coefficient of variation 1)
  gamma,   ///< gamma gaps with a chosen coefficient of variation (burstier when cv > 1)
};

/// How arrivals are generated: a process at a mean rate.
struct arrival_config {
  arrival_process process = arrival_process::poisson;
  double rate_per_s = 1.0; ///< mean arrivals per second (> 0)
  double cv = 1.0;         ///< gamma only: coefficient of variation of the gaps (> 0)

  /// @throws config_error naming the first bad field; a rate below one request per
  /// io::max_time_s puts the first arrival past the bound on times.
  void validate() const {
    check_positive("io::arrival_config", "rate_per_s", rate_per_s);
    if (rate_per_s < 1.0 / max_time_s)
      throw config_error("io::arrival_config", "rate_per_s",
                         fmt::format("({}) must be at least {} (one request per io::max_time_s, "
                                     "{:.0f} s)",
                                     rate_per_s, 1.0 / max_time_s, max_time_s));
    check_positive("io::arrival_config", "cv", cv);
  }
};

namespace detail {

/// Arrival times one at a time (see generate_arrivals).
class arrival_clock {
public:
  explicit arrival_clock(const arrival_config& a)
      : a_(a), shape_(1.0 / (a.cv * a.cv)), scale_(a.cv * a.cv / a.rate_per_s) {
    a.validate();
  }
  /// The next arrival, drawn from `g`.
  double next(rng& g) {
    now_ += a_.process == arrival_process::poisson ? g.exponential(a_.rate_per_s)
                                                   : g.gamma(shape_, scale_);
    return now_;
  }

private:
  arrival_config a_;
  double shape_, scale_;
  double now_ = 0.0;
};

} // namespace detail

/// `n` arrival times starting with a gap from 0: Poisson gaps Exp(rate), or gamma gaps with
/// shape 1/cv² and scale cv²/rate (mean 1/rate, coefficient of variation cv).
/// @throws config_error for invalid `a`.
[[nodiscard]] inline std::vector<double> generate_arrivals(std::size_t n, const arrival_config& a,
                                                           rng& g) {
  detail::arrival_clock clock(a);
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i)
    t[i] = clock.next(g);
  return t;
}

/// Column names of the length-only CSVs (microsoft/sarathi-serve and microsoft/vidur traces).
inline constexpr std::string_view lengths_input_column = "num_prefill_tokens";
inline constexpr std::string_view lengths_output_column = "num_decode_tokens";

namespace detail {

/// Length-only rows to requests, one row at a time, each arrival the clock's next.
class lengths_rows {
public:
  lengths_rows(std::string file, const std::vector<std::string>& header, std::size_t ci,
               std::size_t co, const arrival_config& a, std::uint64_t seed)
      : file_(std::move(file)), header_(header), ci_(ci), co_(co), clock_(a), g_(seed) {}

  [[nodiscard]] workload_request operator()(const csv_row& row, std::size_t id) {
    const double arrival = clock_.next(g_);
    return {.id = static_cast<std::int64_t>(id),
            .arrival_s = arrival,
            .input_tokens = prompt_length(file_, header_, row, ci_),
            .output_tokens = non_negative_integer(file_, header_, row, co_),
            .block_hashes = {}};
  }

private:
  std::string file_;
  std::vector<std::string> header_;
  std::size_t ci_, co_;
  arrival_clock clock_;
  rng g_;
};

} // namespace detail

/// A length-only CSV already read, with arrivals drawn from `a` by an engine seeded with `seed`.
/// @throws trace_error for a missing column, an empty trace, a prompt < 1 token or a negative
/// or non-integer length; config_error for invalid `a`.
[[nodiscard]] inline workload from_lengths_csv(const csv_table& t, const arrival_config& a,
                                               std::uint64_t seed) {
  a.validate();
  const std::size_t ci = t.column(lengths_input_column);
  const std::size_t co = t.column(lengths_output_column);
  detail::lengths_rows make(t.file(), t.header(), ci, co, a, seed);
  if (t.rows() == 0)
    throw trace_error(t.file(), 2, 1, "empty trace: no requests after the header");
  workload w{.name = t.file(), .requests = {}, .block_tokens = mooncake_block_tokens};
  w.requests.reserve(t.rows());
  for (std::size_t r = 0; r < t.rows(); ++r)
    w.requests.push_back(make(t.row(r), r));
  return w;
}

/// Reads the first `limit` requests (all by default) of a length-only CSV with generated
/// arrivals, streaming it (the same requests as from_lengths_csv on the whole file).
/// @throws trace_error, config_error as from_lengths_csv, and trace_error for a directory, an
/// unreadable file or more than io::max_requests rows.
[[nodiscard]] inline workload
read_lengths_workload(const std::string& path, const arrival_config& a, std::uint64_t seed,
                      std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  a.validate();
  csv_reader in(path);
  const std::size_t ci = in.column(lengths_input_column);
  const std::size_t co = in.column(lengths_output_column);
  detail::lengths_rows make(path, in.header(), ci, co, a, seed);
  return detail::read_rows(in, limit, make);
}

/// Synthetic requests: lengths uniform in [mean·(1 − spread), mean·(1 + spread)] (fixed when
/// spread is 0), and optionally a shared prefix drawn from `prefix_groups` Zipf-popular groups
/// (system prompts, few-shot templates) so that a prefix cache has something to hit.
struct synthetic_config {
  std::size_t requests = 1000;      ///< how many (> 0)
  arrival_config arrivals{};        ///< arrival process and rate
  std::int64_t input_tokens = 1024; ///< mean prompt tokens (>= 1)
  double input_spread = 0.0;        ///< relative half-width of the prompt law, in [0, 1)
  std::int64_t output_tokens = 128; ///< mean output tokens (>= 0)
  double output_spread = 0.0;       ///< relative half-width of the output law, in [0, 1]
  int prefix_groups = 0;            ///< shared-prefix groups; 0: no block hashes
  std::int64_t prefix_tokens = 0;   ///< tokens of a group's shared prefix (whole blocks count)
  double prefix_zipf = 1.0;         ///< Zipf exponent of group popularity (>= 0)
  std::int64_t block_tokens = mooncake_block_tokens; ///< tokens per block hash

  /// @throws config_error naming the first bad field.
  void validate() const {
    constexpr std::string_view c = "io::synthetic_config";
    check_positive(c, "requests", requests);
    arrivals.validate();
    check_positive(c, "input_tokens", input_tokens);
    check_in_range(c, "input_spread", input_spread, 0.0, 0.999);
    check_non_negative(c, "output_tokens", output_tokens);
    check_in_range(c, "output_spread", output_spread, 0.0, 1.0);
    check_non_negative(c, "prefix_groups", prefix_groups);
    check_non_negative(c, "prefix_tokens", prefix_tokens);
    check_non_negative(c, "prefix_zipf", prefix_zipf);
    check_positive(c, "block_tokens", block_tokens);
  }
};

/// Generates a synthetic workload with an engine seeded with `seed`. Block hashes (when
/// prefix_groups > 0) are chained ids: a request's leading whole blocks inside its group's
/// prefix share the group's ids, every later block gets a fresh id, and there are
/// ceil(input / block_tokens) ids as in Mooncake traces. @throws config_error.
[[nodiscard]] inline workload synthetic_workload(const synthetic_config& cfg, std::uint64_t seed) {
  cfg.validate();
  rng g(seed);
  const std::vector<double> arrivals = generate_arrivals(cfg.requests, cfg.arrivals, g);
  auto draw = [&](std::int64_t mean, double spread, std::int64_t lo) {
    if (spread == 0.0)
      return mean;
    const double m = static_cast<double>(mean);
    const double x = g.uniform(m * (1.0 - spread), m * (1.0 + spread));
    return std::max<std::int64_t>(lo, std::llround(x));
  };
  const bool hashes = cfg.prefix_groups > 0;
  const std::vector<double> popularity =
      hashes ? zipf_weights(static_cast<std::size_t>(cfg.prefix_groups), cfg.prefix_zipf)
             : std::vector<double>{1.0};
  const discrete_distribution group(popularity);
  const std::int64_t prefix_blocks = cfg.prefix_tokens / cfg.block_tokens;
  // Group g's j-th block has id g·prefix_blocks + j; fresh ids start after every group's.
  std::uint64_t next_id =
      static_cast<std::uint64_t>(cfg.prefix_groups) * static_cast<std::uint64_t>(prefix_blocks);
  workload w{.name = "synthetic", .requests = {}, .block_tokens = cfg.block_tokens};
  w.requests.reserve(cfg.requests);
  for (std::size_t i = 0; i < cfg.requests; ++i) {
    workload_request r{.id = static_cast<std::int64_t>(i),
                       .arrival_s = arrivals[i],
                       .input_tokens = draw(cfg.input_tokens, cfg.input_spread, 1),
                       .output_tokens = draw(cfg.output_tokens, cfg.output_spread, 0),
                       .block_hashes = {}};
    if (hashes) {
      const auto grp = static_cast<std::uint64_t>(group(g));
      const std::int64_t blocks = (r.input_tokens + cfg.block_tokens - 1) / cfg.block_tokens;
      const std::int64_t shared = std::min(blocks, prefix_blocks);
      r.block_hashes.reserve(static_cast<std::size_t>(blocks));
      for (std::int64_t j = 0; j < shared; ++j)
        r.block_hashes.push_back(grp * static_cast<std::uint64_t>(prefix_blocks) +
                                 static_cast<std::uint64_t>(j));
      for (std::int64_t j = shared; j < blocks; ++j)
        r.block_hashes.push_back(next_id++);
    }
    w.requests.push_back(std::move(r));
  }
  return w;
}

/// The workload replayed at `factor`× its rate: every arrival divided by `factor`.
/// @throws config_error unless factor is finite and > 0.
[[nodiscard]] inline workload scale_time(workload w, double factor) {
  check_positive("io::scale_time", "factor", factor);
  for (auto& r : w.requests)
    r.arrival_s /= factor;
  return w;
}

/// The first `n` requests (all of them if there are fewer).
[[nodiscard]] inline workload take(workload w, std::size_t n) {
  if (w.requests.size() > n)
    w.requests.resize(n);
  return w;
}

} // namespace infercost::io
