/// @file
/// Exceptions for bad input, and the checks that raise them.
///
/// Every message is stable and prefixed by the component that rejected the input, then names the
/// field and the offending value: `moe::router: top_k (9) must be <= num_experts (8)`.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/core.h>

namespace infercost {

/// Base of every exception infercost throws for bad input or an impossible request.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A configuration value (device spec, model config, policy parameter) is out of its domain.
class config_error : public error {
public:
  /// @param component  where the value was rejected, e.g. "moe::router"
  /// @param field      the field's name, e.g. "top_k"
  /// @param detail     the value and the rule it breaks, e.g. "(9) must be <= num_experts (8)"
  config_error(std::string_view component, std::string_view field, std::string_view detail)
      : error(fmt::format("{}: {} {}", component, field, detail)), component_(component),
        field_(field) {}

  /// The component that rejected the value.
  [[nodiscard]] const std::string& component() const noexcept { return component_; }
  /// The name of the rejected field.
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

private:
  std::string component_;
  std::string field_;
};

/// A trace or data file is malformed. Lines and columns are 1-based; 0 means "not applicable".
class trace_error : public error {
public:
  trace_error(std::string file, std::size_t line, std::size_t column, std::string_view what)
      : error(fmt::format("{}:{}:{}: {}", file, line, column, what)), file_(std::move(file)),
        line_(line), column_(column) {}

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

private:
  std::string file_;
  std::size_t line_;
  std::size_t column_;
};

/// Throws config_error when `value` is NaN or infinite.
template <class T> void check_finite(std::string_view component, std::string_view field, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value))
      throw config_error(component, field, fmt::format("({}) must be finite", value));
  }
}

/// Throws config_error unless `value` is finite and > 0.
template <class T>
void check_positive(std::string_view component, std::string_view field, T value) {
  check_finite(component, field, value);
  if (!(value > T{0}))
    throw config_error(component, field, fmt::format("({}) must be > 0", value));
}

/// Throws config_error unless `value` is finite and >= 0.
template <class T>
void check_non_negative(std::string_view component, std::string_view field, T value) {
  check_finite(component, field, value);
  if (!(value >= T{0}))
    throw config_error(component, field, fmt::format("({}) must be >= 0", value));
}

/// Throws config_error unless lo <= value <= hi (and value is finite).
template <class T>
void check_in_range(std::string_view component, std::string_view field, T value, T lo, T hi) {
  check_finite(component, field, value);
  if (!(value >= lo && value <= hi))
    throw config_error(component, field, fmt::format("({}) must be in [{}, {}]", value, lo, hi));
}

/// Throws config_error unless `value` <= `bound`; `bound_name` names what bounds it.
template <class T>
void check_at_most(std::string_view component, std::string_view field, T value,
                   std::string_view bound_name, T bound) {
  if (!(value <= bound))
    throw config_error(component, field,
                       fmt::format("({}) must be <= {} ({})", value, bound_name, bound));
}

/// Throws config_error unless `value` is a multiple of... i.e. `divisor` divides `value`.
template <class T>
void check_divides(std::string_view component, std::string_view field, T divisor,
                   std::string_view value_name, T value) {
  if (divisor <= T{0} || value % divisor != T{0})
    throw config_error(component, field,
                       fmt::format("({}) must divide {} ({})", divisor, value_name, value));
}

} // namespace infercost
