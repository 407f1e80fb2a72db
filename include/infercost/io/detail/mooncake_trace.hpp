/// @file
/// The Mooncake JSON Lines parser (see io/mooncake_trace.hpp, which includes this file in
/// header-only mode; the compiled library compiles it once).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/io/csv.hpp"
#include "infercost/io/mooncake_trace.hpp"
#include "infercost/io/workload.hpp"

namespace infercost::io {

namespace detail {

/// Deepest nesting of arrays/objects accepted in a line, the line's own object included.
inline constexpr int max_json_depth = 64;

/// The keys a Mooncake line gives meaning to, in the order of `mooncake_keys`.
enum class mooncake_key : std::uint8_t { timestamp, input_length, output_length, hash_ids, other };

/// Names of the known keys, indexed by mooncake_key.
inline constexpr std::array<std::string_view, 4> mooncake_keys = {"timestamp", "input_length",
                                                                  "output_length", "hash_ids"};

/// 1-based column of the `occurrence`-th (1-based) `"key"` followed by white space and ':' in
/// `text`, i.e. of a key spelled without escapes; 1 when there is no such occurrence.
[[nodiscard]] inline std::size_t key_column(std::string_view text, std::string_view key,
                                            std::size_t occurrence) noexcept {
  std::size_t seen = 0;
  for (std::size_t at = text.find('"'); at != std::string_view::npos; at = text.find('"', at + 1)) {
    const std::size_t close = at + 1 + key.size();
    if (close >= text.size() || text[close] != '"' || text.substr(at + 1, key.size()) != key)
      continue;
    std::size_t colon = close + 1;
    while (colon < text.size() && (text[colon] == ' ' || text[colon] == '\t' ||
                                   text[colon] == '\r' || text[colon] == '\n'))
      ++colon;
    if (colon < text.size() && text[colon] == ':' && ++seen == occurrence)
      return at + 1;
  }
  return 1;
}

/// The message of a nlohmann::json exception without its "[json.exception.<kind>.<id>] " tag and
/// its "parse error at line 1, column N: " prefix (the trace_error carries the position).
[[nodiscard]] inline std::string_view json_error_message(std::string_view what) noexcept {
  if (!what.empty() && what.front() == '[') {
    const std::size_t end = what.find("] ");
    if (end != std::string_view::npos)
      what.remove_prefix(end + 2);
  }
  constexpr std::string_view prefix = "parse error at line ";
  if (what.substr(0, prefix.size()) == prefix) {
    const std::size_t end = what.find(": ");
    if (end != std::string_view::npos)
      what.remove_prefix(end + 2);
  }
  return what;
}

/// A line parsed into a request, with what the trace reader needs to place later errors.
struct mooncake_line {
  mooncake_request request;
  /// For each known key (mooncake_key order), which `"key":` of the line is the field's key.
  std::array<std::size_t, 4> occurrence{};

  /// 1-based column of the known field `k`'s key in `text`, the line parsed.
  [[nodiscard]] std::size_t column(std::string_view text, mooncake_key k) const noexcept {
    const auto i = static_cast<std::size_t>(k);
    return key_column(text, mooncake_keys[i], occurrence[i]);
  }
};

/// The largest timestamp accepted, ms: io::max_time_s.
inline constexpr double max_timestamp_ms = max_time_s * 1e3;

/// SAX handler for nlohmann::json::sax_parse that fills a mooncake_request from one line and
/// raises trace_error on the first syntax error or broken rule.
class mooncake_sax {
public:
  using json = nlohmann::json;

  mooncake_sax(std::string_view text, const std::string& file, std::size_t line,
               mooncake_line& out) noexcept
      : text_(text), file_(file), line_(line), out_(out) {}

  /// @name SAX events (nlohmann::json_sax); each returns true or throws trace_error.
  bool null() { return scalar("null"); }
  bool boolean(bool /*value*/) { return scalar("a boolean"); }
  bool string(json::string_t& /*value*/) { return scalar("a string"); }
  bool binary(json::binary_t& /*value*/) { return scalar("binary data"); }

  /// nlohmann reports integers written with a '-' here (negative, or -0) and others in
  /// number_unsigned. An integer field rejects -0 as it rejects any sign; a timestamp takes it.
  bool number_integer(json::number_integer_t v) {
    if (depth_ == 0)
      not_an_object();
    const std::string shown = v == 0 ? std::string("-0") : fmt::format("{}", v);
    if (depth_ == 1 && key_ == mooncake_key::timestamp) {
      if (v < 0)
        fail_key(fmt::format("timestamp ({}) must be >= 0", shown));
      out_.request.timestamp_ms = 0.0;
    }
    if (depth_ == 1 && (key_ == mooncake_key::input_length || key_ == mooncake_key::output_length))
      fail_key(fmt::format("{} ({}) must be >= 0", key_name(), shown));
    if (depth_ == 1 && key_ == mooncake_key::hash_ids)
      fail_key(fmt::format("hash_ids ({}) must be an array", shown));
    if (in_hash_ids())
      fail_key(fmt::format("hash_ids element ({}) must be >= 0", shown));
    return value_done();
  }

  bool number_unsigned(json::number_unsigned_t v) {
    if (depth_ == 0)
      not_an_object();
    if (depth_ == 1) {
      switch (key_) {
      case mooncake_key::timestamp:
        if (static_cast<double>(v) > max_timestamp_ms)
          too_late(fmt::format("{}", v));
        out_.request.timestamp_ms = static_cast<double>(v);
        break;
      case mooncake_key::input_length:
        out_.request.input_length = length(v);
        break;
      case mooncake_key::output_length:
        out_.request.output_length = length(v);
        break;
      case mooncake_key::hash_ids:
        fail_key(fmt::format("hash_ids ({}) must be an array", v));
      case mooncake_key::other:
        break;
      }
    } else if (in_hash_ids()) {
      out_.request.hash_ids.push_back(v);
    }
    return value_done();
  }

  /// `raw` is the number as written; an integer too large for 64 bits also arrives here.
  bool number_float(json::number_float_t v, const json::string_t& raw) {
    if (depth_ == 0)
      not_an_object();
    if (depth_ == 1) {
      switch (key_) {
      case mooncake_key::timestamp:
        if (v < 0.0)
          fail_key(fmt::format("timestamp ({}) must be >= 0", raw));
        if (!(v <= max_timestamp_ms))
          too_late(raw);
        out_.request.timestamp_ms = v;
        break;
      case mooncake_key::input_length:
      case mooncake_key::output_length:
        not_an_integer(key_name(), raw);
      case mooncake_key::hash_ids:
        fail_key(fmt::format("hash_ids ({}) must be an array", raw));
      case mooncake_key::other:
        break;
      }
    } else if (in_hash_ids()) {
      not_an_integer("hash_ids element", raw);
    }
    return value_done();
  }

  bool start_object(std::size_t /*elements*/) {
    if (depth_ > 0)
      container("an object");
    return enter();
  }
  bool start_array(std::size_t /*elements*/) {
    if (depth_ == 0)
      not_an_object();
    if (depth_ == 1 && key_ == mooncake_key::hash_ids) {
      hash_array_ = true;
      return enter();
    }
    container("an array");
    return enter();
  }
  bool end_object() { return leave(); }
  bool end_array() {
    if (in_hash_ids())
      hash_array_ = false;
    return leave();
  }

  bool key(json::string_t& k) {
    mooncake_key which = mooncake_key::other;
    for (std::size_t i = 0; i < mooncake_keys.size(); ++i)
      if (k == mooncake_keys[i]) {
        which = static_cast<mooncake_key>(i);
        ++occurrences_[i];
      }
    if (depth_ == 1) {
      key_ = which;
      if (which == mooncake_key::other)
        other_key_.assign(k);
      else {
        const auto i = static_cast<std::size_t>(which);
        key_occurrence_ = occurrences_[i];
        if (seen_[i])
          fail_key(fmt::format("duplicate key '{}'", mooncake_keys[i]));
        seen_[i] = true;
        out_.occurrence[i] = key_occurrence_;
      }
    }
    return true;
  }

  [[noreturn]] bool parse_error(std::size_t position, const std::string& /*last_token*/,
                                const json::exception& ex) {
    throw trace_error(file_, line_, position > 0 ? position : 1, json_error_message(ex.what()));
  }

  /// Checks that the required keys were present (after a successful parse).
  void finish() const {
    for (std::size_t i = 0; i < 3; ++i)
      if (!seen_[i])
        throw trace_error(file_, line_, 1, fmt::format("missing key '{}'", mooncake_keys[i]));
  }

private:
  [[nodiscard]] bool in_hash_ids() const noexcept { return hash_array_ && depth_ == 2; }
  [[nodiscard]] std::string_view key_name() const noexcept {
    return mooncake_keys[static_cast<std::size_t>(key_)];
  }

  [[noreturn]] void fail_key(std::string_view what) const {
    const std::size_t column = key_ == mooncake_key::other
                                   ? key_column(text_, other_key_, 1)
                                   : key_column(text_, key_name(), key_occurrence_);
    throw trace_error(file_, line_, column, what);
  }
  [[noreturn]] void too_late(std::string_view shown) const {
    fail_key(fmt::format("timestamp ({}) must be at most {:.0f} ms (about 31.7 years; "
                         "io::max_time_s)",
                         shown, max_timestamp_ms));
  }
  [[noreturn]] void not_an_object() const {
    throw trace_error(file_, line_, 1, "a line must be one JSON object");
  }

  /// A value that is not a number where a known key wants one.
  bool scalar(std::string_view kind) {
    if (depth_ == 0)
      not_an_object();
    wrong_type(kind);
    return value_done();
  }
  /// A container (not the line's own object, nor hash_ids' array) starts.
  void container(std::string_view kind) const { wrong_type(kind); }

  void wrong_type(std::string_view kind) const {
    if (depth_ == 1 && key_ == mooncake_key::timestamp)
      fail_key(fmt::format("timestamp ({}) must be a number", kind));
    if (depth_ == 1 && (key_ == mooncake_key::input_length || key_ == mooncake_key::output_length))
      fail_key(fmt::format("{} ({}) must be a non-negative integer", key_name(), kind));
    if (depth_ == 1 && key_ == mooncake_key::hash_ids)
      fail_key(fmt::format("hash_ids ({}) must be an array", kind));
    if (in_hash_ids())
      fail_key(fmt::format("hash_ids element ({}) must be a non-negative integer", kind));
  }

  /// A number with a fraction or exponent, or an integer beyond 64 bits, where an integer is due.
  [[noreturn]] void not_an_integer(std::string_view field, const json::string_t& raw) const {
    if (raw.find_first_of(".eE") != json::string_t::npos)
      fail_key(fmt::format("{} ({}) must be an integer", field, raw));
    if (!raw.empty() && raw.front() == '-')
      fail_key(fmt::format("{} ({}) must be >= 0", field, raw));
    fail_key(fmt::format("{} ({}) is too large", field, raw));
  }

  std::int64_t length(json::number_unsigned_t v) const {
    if (v > static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max()))
      fail_key(fmt::format("{} ({}) is too large", key_name(), v));
    return static_cast<std::int64_t>(v);
  }

  bool enter() {
    if (++depth_ > max_json_depth)
      fail_key(fmt::format("value nested more than {} levels deep", max_json_depth));
    return true;
  }
  bool leave() {
    --depth_;
    return value_done();
  }
  /// A value ended; at the top level the next key decides what the next value means.
  bool value_done() noexcept {
    if (depth_ == 1)
      key_ = mooncake_key::other;
    return true;
  }

  std::string_view text_;
  const std::string& file_;
  std::size_t line_;
  mooncake_line& out_;
  int depth_ = 0;                            ///< open containers, the line's object included
  mooncake_key key_ = mooncake_key::other;   ///< top-level key whose value is being read
  bool hash_array_ = false;                  ///< inside hash_ids' array
  std::size_t key_occurrence_ = 0;           ///< which `"key":` of the line key_ is
  std::string other_key_;                    ///< the last unknown top-level key
  std::array<bool, 4> seen_{};               ///< known keys met at the top level
  std::array<std::size_t, 4> occurrences_{}; ///< known keys met at any depth so far
};

/// Parses one line; see parse_mooncake_line.
[[nodiscard]] inline mooncake_line parse_line(std::string_view text, const std::string& file,
                                              std::size_t line) {
  mooncake_line out;
  mooncake_sax sax(text, file, line, out);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &sax);
  } catch (const nlohmann::json::exception& e) {
    throw trace_error(file, line, 1, json_error_message(e.what()));
  }
  if (!ok)
    throw trace_error(file, line, 1, "malformed line");
  sax.finish();
  // One id per 512-token block of the prompt: more ids than blocks would make a prefix cache
  // hit load more KV than the prompt has. Fewer are accepted (a trace may hash only a prefix).
  const mooncake_request& r = out.request;
  const auto blocks = static_cast<std::uint64_t>(r.input_length / mooncake_block_tokens +
                                                 (r.input_length % mooncake_block_tokens != 0));
  if (r.hash_ids.size() > blocks)
    throw trace_error(file, line, out.column(text, mooncake_key::hash_ids),
                      fmt::format("hash_ids has {} ids, more than the {} blocks of {} tokens "
                                  "of input_length ({})",
                                  r.hash_ids.size(), blocks, mooncake_block_tokens,
                                  r.input_length));
  out.request.line = line;
  return out;
}

/// Calls `use(parsed, text)` for each non-blank line of `in`, in order, after checking that
/// timestamps do not decrease, until `use` returns false. @throws trace_error naming `file`, the
/// line and the column.
template <class Use>
void for_each_mooncake_line(byte_stream& in, const std::string& file, Use&& use) {
  std::string text;
  std::size_t line = 0;
  double prev_ms = 0.0;
  bool first = true;
  while (in.read_line(text)) {
    ++line;
    const std::string_view s = text;
    if (s.find_first_not_of(" \t\r") == std::string_view::npos)
      continue;
    mooncake_line parsed = parse_line(s, file, line);
    const double ms = parsed.request.timestamp_ms;
    if (!first && ms < prev_ms)
      throw trace_error(
          file, line, parsed.column(s, mooncake_key::timestamp),
          fmt::format("timestamp ({}) is before the previous line's ({})", ms, prev_ms));
    prev_ms = ms;
    first = false;
    if (!use(parsed, s))
      return;
  }
}

/// The workload request of a parsed line, the `id`-th of the trace.
/// @throws trace_error at input_length's key for a prompt < 1 token.
[[nodiscard]] inline workload_request to_request(mooncake_line& parsed, std::string_view text,
                                                 const std::string& file, std::size_t id) {
  mooncake_request& q = parsed.request;
  if (q.input_length < 1)
    throw trace_error(file, q.line, parsed.column(text, mooncake_key::input_length),
                      fmt::format("input_length ({}) must be >= 1", q.input_length));
  return {.id = static_cast<std::int64_t>(id),
          .arrival_s = q.timestamp_ms / 1000.0,
          .input_tokens = q.input_length,
          .output_tokens = q.output_length,
          .block_hashes = std::move(q.hash_ids)};
}

} // namespace detail

INFERCOST_FUNC mooncake_request parse_mooncake_line(std::string_view text, const std::string& file,
                                                    std::size_t line) {
  return detail::parse_line(text, file, line).request;
}

INFERCOST_FUNC std::vector<mooncake_request> parse_mooncake_trace(std::string_view text,
                                                                  const std::string& file) {
  std::vector<mooncake_request> out;
  detail::byte_stream in(text);
  detail::for_each_mooncake_line(in, file, [&](detail::mooncake_line& parsed, std::string_view) {
    out.push_back(std::move(parsed.request));
    return true;
  });
  return out;
}

INFERCOST_FUNC std::vector<mooncake_request> read_mooncake_trace(const std::string& path) {
  std::vector<mooncake_request> out;
  detail::byte_stream in(path, nullptr);
  detail::for_each_mooncake_line(in, path, [&](detail::mooncake_line& parsed, std::string_view) {
    out.push_back(std::move(parsed.request));
    return true;
  });
  return out;
}

INFERCOST_FUNC workload from_mooncake(const std::vector<mooncake_request>& trace,
                                      std::string name) {
  if (trace.empty())
    throw trace_error(name, 0, 0, "empty trace: no requests");
  workload w{.name = std::move(name), .requests = {}, .block_tokens = mooncake_block_tokens};
  w.requests.reserve(trace.size());
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const mooncake_request& q = trace[i];
    if (q.input_length < 1)
      throw trace_error(
          w.name, q.line, 0,
          fmt::format("input_length ({}) of request {} must be >= 1", q.input_length, i + 1));
    w.requests.push_back({.id = static_cast<std::int64_t>(i),
                          .arrival_s = q.timestamp_ms / 1000.0,
                          .input_tokens = q.input_length,
                          .output_tokens = q.output_length,
                          .block_hashes = q.hash_ids});
  }
  return w;
}

INFERCOST_FUNC workload read_mooncake_workload(const std::string& path, std::size_t limit) {
  workload w{.name = path, .requests = {}, .block_tokens = mooncake_block_tokens};
  detail::byte_stream in(path, nullptr);
  if (limit == 0)
    return w;
  detail::for_each_mooncake_line(
      in, path, [&](detail::mooncake_line& parsed, std::string_view text) {
        if (w.requests.size() >= max_requests)
          throw trace_error(path, parsed.request.line, 1,
                            fmt::format("more than {} requests (io::max_requests)", max_requests));
        w.requests.push_back(detail::to_request(parsed, text, path, w.requests.size()));
        return w.requests.size() < limit;
      });
  if (w.requests.empty())
    throw trace_error(path, 0, 0, "empty trace: no requests");
  return w;
}

} // namespace infercost::io
