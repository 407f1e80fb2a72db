/// @file
/// Reader for Mooncake request traces (JSON Lines, one request per line), as released with the
/// Mooncake FAST'25 paper (kvcache-ai/Mooncake, FAST25-release/traces):
///
///     {"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 2]}
///
/// `timestamp` is in milliseconds from the start of the trace; `hash_ids` holds one id per
/// 512-token prefix block of the input, chained so that equal ids mean equal prefixes. Traces
/// without `hash_ids` are accepted (the field is then empty). Unknown keys are skipped. Any
/// malformed line raises `trace_error` naming the file, the 1-based line and the 1-based column.
///
/// The parser is a small hand-written JSON reader restricted to what these lines need: it reads
/// one object per line, never recurses deeper than `detail::max_json_depth`, and never reads past
/// the end of its input, so arbitrary bytes only ever raise `trace_error`.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "infercost/core/error.hpp"

namespace infercost::io {

/// One request of a Mooncake trace.
struct mooncake_request {
  double timestamp_ms = 0.0;           ///< arrival time from the start of the trace, ms (>= 0)
  std::int64_t input_length = 0;       ///< prompt tokens (>= 0)
  std::int64_t output_length = 0;      ///< generated tokens (>= 0)
  std::vector<std::uint64_t> hash_ids; ///< chained prefix-block ids, one per block; may be empty
};

/// Tokens per hash id in the Mooncake release (FAST25-release/README: "block size 512").
inline constexpr std::int64_t mooncake_block_tokens = 512;

namespace detail {

/// Deepest nesting of arrays/objects accepted inside an unknown key's value.
inline constexpr int max_json_depth = 64;

/// A cursor over one line that raises trace_error at its current column.
class json_line_parser {
public:
  json_line_parser(std::string_view text, const std::string& file, std::size_t line)
      : s_(text), file_(file), line_(line) {}

  [[noreturn]] void fail(std::string_view what) const {
    throw trace_error(file_, line_, pos_ + 1, what);
  }
  [[noreturn]] void fail_at(std::size_t pos, std::string_view what) const {
    throw trace_error(file_, line_, pos + 1, what);
  }

  void skip_ws() noexcept {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n'))
      ++pos_;
  }
  [[nodiscard]] bool at_end() const noexcept { return pos_ >= s_.size(); }
  [[nodiscard]] char peek() const noexcept { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }

  void expect(char c) {
    skip_ws();
    if (at_end())
      fail(fmt::format("expected '{}' but the line ended", c));
    if (s_[pos_] != c)
      fail(fmt::format("expected '{}'", c));
    ++pos_;
  }

  /// A JSON string; escapes are validated and decoded (\uXXXX kept as '?', enough for keys).
  std::string parse_string() {
    skip_ws();
    if (peek() != '"')
      fail("expected a string");
    ++pos_;
    std::string out;
    while (true) {
      if (at_end())
        fail("unterminated string");
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        fail("control character in string");
      if (c == '\\') {
        ++pos_;
        if (at_end())
          fail("unterminated escape");
        const char e = s_[pos_];
        switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          out.push_back(' ');
          break;
        case 'u':
          for (int i = 1; i <= 4; ++i) {
            const char h = pos_ + static_cast<std::size_t>(i) < s_.size()
                               ? s_[pos_ + static_cast<std::size_t>(i)]
                               : '\0';
            const bool hex =
                (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
            if (!hex)
              fail_at(pos_ + static_cast<std::size_t>(i), "bad \\u escape");
          }
          pos_ += 4;
          out.push_back('?');
          break;
        default:
          fail("bad escape");
        }
        ++pos_;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
  }

  /// The span of a JSON number token (not yet converted); fails if there is none.
  std::string_view number_token() {
    skip_ws();
    const std::size_t start = pos_;
    if (peek() == '-')
      ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
      ++pos_;
    if (pos_ == digits)
      fail_at(start, "expected a number");
    if (s_[digits] == '0' && pos_ - digits > 1)
      fail_at(start, "leading zero in number");
    if (peek() == '.') {
      ++pos_;
      const std::size_t f = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        ++pos_;
      if (pos_ == f)
        fail("expected a digit after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      const std::size_t e = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        ++pos_;
      if (pos_ == e)
        fail("expected a digit in exponent");
    }
    return s_.substr(start, pos_ - start);
  }

  /// A finite number, as a double.
  double parse_double() {
    skip_ws();
    const std::size_t start = pos_;
    const std::string_view tok = number_token();
    double v = 0.0;
    const auto r = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (r.ec != std::errc{} || r.ptr != tok.data() + tok.size() || !std::isfinite(v))
      fail_at(start, fmt::format("number '{}' is out of range", tok));
    return v;
  }

  /// A non-negative integer (no fraction or exponent) that fits in `Int`.
  template <class Int> Int parse_unsigned_integer(std::string_view field) {
    skip_ws();
    const std::size_t start = pos_;
    const std::string_view tok = number_token();
    if (!tok.empty() && tok.front() == '-')
      fail_at(start, fmt::format("{} ({}) must be >= 0", field, tok));
    Int v{};
    const auto r = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (r.ec == std::errc::result_out_of_range)
      fail_at(start, fmt::format("{} ({}) is too large", field, tok));
    if (r.ec != std::errc{} || r.ptr != tok.data() + tok.size())
      fail_at(start, fmt::format("{} ({}) must be an integer", field, tok));
    return v;
  }

  /// Skips any JSON value (for unknown keys), nesting at most max_json_depth.
  void skip_value(int depth = 0) {
    if (depth > max_json_depth)
      fail("value nested too deeply");
    skip_ws();
    if (at_end())
      fail("expected a value but the line ended");
    const char c = s_[pos_];
    if (c == '"') {
      (void)parse_string();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      skip_ws();
      if (peek() == close) {
        ++pos_;
        return;
      }
      while (true) {
        if (c == '{') {
          (void)parse_string();
          expect(':');
        }
        skip_value(depth + 1);
        skip_ws();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(close);
        return;
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      (void)number_token();
    } else {
      for (std::string_view lit :
           {std::string_view("true"), std::string_view("false"), std::string_view("null")}) {
        if (s_.substr(pos_, lit.size()) == lit) {
          pos_ += lit.size();
          return;
        }
      }
      fail("expected a value");
    }
  }

private:
  std::string_view s_;
  const std::string& file_;
  std::size_t line_;
  std::size_t pos_ = 0;
};

} // namespace detail

/// Parses one line of a Mooncake trace. `file` and `line` (1-based) only label errors.
/// @throws trace_error for anything but one JSON object with finite `timestamp` >= 0 and
///         non-negative integer `input_length` and `output_length` (all required), an optional
///         array of non-negative integer `hash_ids`, no duplicate known keys, and nothing after
///         the object but white space.
[[nodiscard]] inline mooncake_request
parse_mooncake_line(std::string_view text, const std::string& file, std::size_t line) {
  detail::json_line_parser p(text, file, line);
  mooncake_request r;
  bool seen_ts = false, seen_in = false, seen_out = false, seen_hash = false;
  p.expect('{');
  p.skip_ws();
  if (p.peek() == '}')
    p.fail("missing key 'timestamp'");
  while (true) {
    p.skip_ws();
    const std::size_t key_pos = p.pos();
    const std::string key = p.parse_string();
    p.expect(':');
    auto once = [&](bool& seen) {
      if (seen)
        p.fail_at(key_pos, fmt::format("duplicate key '{}'", key));
      seen = true;
    };
    if (key == "timestamp") {
      once(seen_ts);
      p.skip_ws();
      const std::size_t at = p.pos();
      r.timestamp_ms = p.parse_double();
      if (r.timestamp_ms < 0.0)
        p.fail_at(at, fmt::format("timestamp ({}) must be >= 0", r.timestamp_ms));
    } else if (key == "input_length") {
      once(seen_in);
      r.input_length = p.parse_unsigned_integer<std::int64_t>("input_length");
    } else if (key == "output_length") {
      once(seen_out);
      r.output_length = p.parse_unsigned_integer<std::int64_t>("output_length");
    } else if (key == "hash_ids") {
      once(seen_hash);
      p.expect('[');
      p.skip_ws();
      if (p.peek() == ']') {
        p.expect(']');
      } else {
        while (true) {
          r.hash_ids.push_back(p.parse_unsigned_integer<std::uint64_t>("hash_ids element"));
          p.skip_ws();
          if (p.peek() == ',') {
            p.expect(',');
            continue;
          }
          p.expect(']');
          break;
        }
      }
    } else {
      p.skip_value();
    }
    p.skip_ws();
    if (p.peek() == ',') {
      p.expect(',');
      continue;
    }
    p.expect('}');
    break;
  }
  p.skip_ws();
  if (!p.at_end())
    p.fail("unexpected characters after the object");
  const std::size_t end = text.size();
  if (!seen_ts)
    p.fail_at(end, "missing key 'timestamp'");
  if (!seen_in)
    p.fail_at(end, "missing key 'input_length'");
  if (!seen_out)
    p.fail_at(end, "missing key 'output_length'");
  return r;
}

/// Parses a whole Mooncake trace held in memory. Blank lines are skipped; timestamps must not
/// decrease. `file` only labels errors.
/// @throws trace_error naming file, line and column of the first malformed line.
[[nodiscard]] inline std::vector<mooncake_request> parse_mooncake_trace(std::string_view text,
                                                                        const std::string& file) {
  std::vector<mooncake_request> out;
  std::size_t line = 0, begin = 0;
  while (begin < text.size()) {
    ++line;
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos)
      end = text.size();
    const std::string_view s = text.substr(begin, end - begin);
    begin = end + 1;
    if (s.find_first_not_of(" \t\r") == std::string_view::npos)
      continue;
    mooncake_request r = parse_mooncake_line(s, file, line);
    if (!out.empty() && r.timestamp_ms < out.back().timestamp_ms)
      throw trace_error(file, line, s.find("timestamp") + 1,
                        fmt::format("timestamp ({}) is before the previous line's ({})",
                                    r.timestamp_ms, out.back().timestamp_ms));
    out.push_back(std::move(r));
  }
  return out;
}

/// Reads a Mooncake trace file. @throws trace_error if the file cannot be opened (line 0) or a
/// line is malformed.
[[nodiscard]] inline std::vector<mooncake_request> read_mooncake_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw trace_error(path, 0, 0, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_mooncake_trace(ss.str(), path);
}

} // namespace infercost::io
