/// @file
/// Descriptive statistics used by metrics and reports: mean, variance, percentiles, summaries,
/// streaming moments and fixed-width histograms.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "infercost/core/error.hpp"

namespace infercost::stats {

/// Arithmetic mean; NaN for an empty range.
[[nodiscard]] inline double mean(std::span<const double> x) noexcept {
  if (x.empty())
    return std::numeric_limits<double>::quiet_NaN();
  double s = 0.0;
  for (double v : x)
    s += v;
  return s / static_cast<double>(x.size());
}

/// Population variance (divides by n); NaN for an empty range. Two-pass for accuracy.
[[nodiscard]] inline double variance(std::span<const double> x) noexcept {
  if (x.empty())
    return std::numeric_limits<double>::quiet_NaN();
  const double m = mean(x);
  double s = 0.0;
  for (double v : x)
    s += (v - m) * (v - m);
  return s / static_cast<double>(x.size());
}

/// Population standard deviation.
[[nodiscard]] inline double stddev(std::span<const double> x) noexcept {
  return std::sqrt(variance(x));
}

/// Coefficient of variation: stddev / mean (population). NaN if the mean is 0 or x is empty.
[[nodiscard]] inline double coefficient_of_variation(std::span<const double> x) noexcept {
  const double m = mean(x);
  return m == 0.0 ? std::numeric_limits<double>::quiet_NaN() : stddev(x) / m;
}

/// Percentile q in [0, 100] of an already sorted range, by linear interpolation between closest
/// ranks (Hyndman & Fan type 7; numpy's default).
[[nodiscard]] inline double percentile_sorted(std::span<const double> sorted, double q) {
  check_in_range("stats::percentile", "q", q, 0.0, 100.0);
  if (sorted.empty())
    return std::numeric_limits<double>::quiet_NaN();
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/// Percentile q in [0, 100] of an unsorted range (copies and sorts).
[[nodiscard]] inline double percentile(std::span<const double> x, double q) {
  std::vector<double> v(x.begin(), x.end());
  std::sort(v.begin(), v.end());
  return percentile_sorted(v, q);
}

/// Count, mean, min, max and the percentiles every latency report prints.
struct summary {
  std::size_t count = 0;
  double mean = std::numeric_limits<double>::quiet_NaN();
  double min = std::numeric_limits<double>::quiet_NaN();
  double p50 = std::numeric_limits<double>::quiet_NaN();
  double p90 = std::numeric_limits<double>::quiet_NaN();
  double p99 = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

/// Summarises x (copies and sorts once).
[[nodiscard]] inline summary summarize(std::span<const double> x) {
  summary s;
  s.count = x.size();
  if (x.empty())
    return s;
  std::vector<double> v(x.begin(), x.end());
  std::sort(v.begin(), v.end());
  s.mean = mean(v);
  s.min = v.front();
  s.max = v.back();
  s.p50 = percentile_sorted(v, 50.0);
  s.p90 = percentile_sorted(v, 90.0);
  s.p99 = percentile_sorted(v, 99.0);
  return s;
}

/// Streaming mean and variance (Welford 1962), for values too many to keep.
class running_stats {
public:
  void add(double x) noexcept {
    ++n_;
    const double d = x - mean_;
    mean_ += d / static_cast<double>(n_);
    m2_ += d * (x - mean_);
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
  }
  [[nodiscard]] std::size_t count() const noexcept { return n_; }
  [[nodiscard]] double mean() const noexcept {
    return n_ ? mean_ : std::numeric_limits<double>::quiet_NaN();
  }
  /// Population variance.
  [[nodiscard]] double variance() const noexcept {
    return n_ ? m2_ / static_cast<double>(n_) : std::numeric_limits<double>::quiet_NaN();
  }
  [[nodiscard]] double min() const noexcept { return min_; }
  [[nodiscard]] double max() const noexcept { return max_; }

private:
  std::size_t n_ = 0;
  double mean_ = 0.0;
  double m2_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

/// Fixed-width histogram over [lo, hi) with `bins` bins; values outside go to underflow/overflow
/// counters, so count() always equals the number of values added.
class histogram {
public:
  histogram(double lo, double hi, std::size_t bins) : lo_(lo), hi_(hi), counts_(bins, 0) {
    check_finite("stats::histogram", "lo", lo);
    check_finite("stats::histogram", "hi", hi);
    if (!(hi > lo))
      throw config_error("stats::histogram", "hi", fmt::format("({}) must be > lo ({})", hi, lo));
    if (bins == 0)
      throw config_error("stats::histogram", "bins", "(0) must be > 0");
  }

  void add(double x) noexcept {
    if (!(x >= lo_)) {
      ++underflow_;
    } else if (x >= hi_) {
      ++overflow_;
    } else {
      auto i = static_cast<std::size_t>((x - lo_) / (hi_ - lo_) * static_cast<double>(size()));
      counts_[std::min(i, size() - 1)] += 1;
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return counts_.size(); }
  [[nodiscard]] std::size_t operator[](std::size_t i) const noexcept { return counts_[i]; }
  [[nodiscard]] double bin_lo(std::size_t i) const noexcept {
    return lo_ + (hi_ - lo_) * static_cast<double>(i) / static_cast<double>(size());
  }
  [[nodiscard]] double bin_hi(std::size_t i) const noexcept { return bin_lo(i + 1); }
  [[nodiscard]] std::size_t underflow() const noexcept { return underflow_; }
  [[nodiscard]] std::size_t overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::size_t count() const noexcept {
    std::size_t n = underflow_ + overflow_;
    for (auto c : counts_)
      n += c;
    return n;
  }

private:
  double lo_, hi_;
  std::vector<std::size_t> counts_;
  std::size_t underflow_ = 0, overflow_ = 0;
};

} // namespace infercost::stats
