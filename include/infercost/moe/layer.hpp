/// @file
/// The MoE layer's forward pass with real expert FFNs in Eigen.
///
/// `basic_layer<Device, Expert, Scalar>` holds E routed experts and S shared experts, each an FFN
/// hidden → width → hidden: `swiglu_expert` (down(silu(x·W_gate) ∘ (x·W_up)); DeepSeek, Qwen,
/// Mixtral) or `relu_expert` (the article's two-layer expert, relu(x·W1)·W2). `forward` groups
/// the kept assignments by expert (a counting sort), runs one GEMM chain per expert over its
/// gathered tokens, scatter-adds the outputs scaled by the combine weights, and adds the shared
/// experts over all tokens. `forward_per_token` is the article's per-token loop, kept as the
/// reference the grouped pass is tested against. Dropped assignments contribute nothing: the
/// caller's residual connection carries those tokens.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "infercost/core/error.hpp"
#include "infercost/core/random.hpp"
#include "infercost/device/concepts.hpp"
#include "infercost/device/work.hpp"
#include "infercost/fwd.hpp"
#include "infercost/moe/router.hpp"

namespace infercost::moe {

/// SwiGLU expert: the input projection is [W_gate | W_up] (hidden × 2·width), the activation
/// silu(g) ∘ u, the output projection W_down (width × hidden).
struct swiglu_expert {
  static constexpr std::string_view name = "swiglu";
  static constexpr int input_blocks = 2; ///< W_gate and W_up side by side
  static constexpr int matrices = 3;
  /// act = silu(in[:, :w]) ∘ in[:, w:], in is n × 2w.
  template <class Scalar>
  static void activate(const row_matrix<Scalar>& in, row_matrix<Scalar>& act) {
    const Eigen::Index w = in.cols() / 2;
    act.resize(in.rows(), w);
    const auto g = in.leftCols(w).array();
    act.array() = g / (Scalar(1) + (-g).exp()) * in.rightCols(w).array();
  }
};

/// The article's two-layer ReLU expert: relu(x·W1)·W2.
struct relu_expert {
  static constexpr std::string_view name = "relu";
  static constexpr int input_blocks = 1;
  static constexpr int matrices = 2;
  template <class Scalar>
  static void activate(const row_matrix<Scalar>& in, row_matrix<Scalar>& act) {
    act = in.cwiseMax(Scalar(0));
  }
};

/// Shape of an MoE layer.
struct layer_config {
  int hidden = 0;             ///< token width
  int expert_hidden = 0;      ///< routed expert width (moe_intermediate)
  int num_experts = 0;        ///< routed experts
  int num_shared_experts = 0; ///< always-active experts
  int shared_hidden = 0;      ///< shared expert width; 0 = expert_hidden

  /// The layer of one of `m`'s MoE layers.
  [[nodiscard]] static layer_config from_model(const model::model_config& m) {
    m.validate();
    if (!m.is_moe())
      throw config_error("moe::layer_config", "num_experts",
                         fmt::format("(0) of model '{}' must be > 0", m.name));
    return {.hidden = m.hidden,
            .expert_hidden = m.moe_intermediate,
            .num_experts = m.num_experts,
            .num_shared_experts = m.num_shared_experts,
            .shared_hidden = 0};
  }
  /// @throws config_error naming the first field out of its domain.
  void validate() const {
    constexpr std::string_view c = "moe::layer";
    check_positive(c, "hidden", hidden);
    check_positive(c, "expert_hidden", expert_hidden);
    check_positive(c, "num_experts", num_experts);
    check_non_negative(c, "num_shared_experts", num_shared_experts);
    check_non_negative(c, "shared_hidden", shared_hidden);
  }
  [[nodiscard]] int shared_width() const noexcept {
    return shared_hidden > 0 ? shared_hidden : expert_hidden;
  }
};

/// Weights of one expert FFN.
template <class Scalar> struct expert_weights {
  row_matrix<Scalar> in;  ///< hidden × (input_blocks · width)
  row_matrix<Scalar> out; ///< width × hidden
};

/// An MoE layer with real expert weights. `Device` gives its cost face; `Scalar` is float or
/// double.
template <class Device, class Expert, class Scalar> class basic_layer {
  static_assert(device_cost_model<Device>,
                "moe::basic_layer: Device must satisfy infercost::device_cost_model");
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                "moe::basic_layer: Scalar must be float or double");

public:
  using device_type = Device;
  using expert_type = Expert;
  using scalar_type = Scalar;
  using matrix = row_matrix<Scalar>;

  /// A layer with weights drawn N(0, 1/fan_in) from `seed`. @throws config_error.
  basic_layer(const layer_config& cfg, std::uint64_t seed, Device device = {})
      : cfg_(cfg), device_(std::move(device)) {
    cfg_.validate();
    rng g(seed);
    auto draw = [&](int rows, int cols) {
      matrix m(rows, cols);
      const double sd = 1.0 / std::sqrt(static_cast<double>(rows));
      for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = static_cast<Scalar>(g.normal(0.0, sd));
      return m;
    };
    auto make = [&](int width) {
      expert_weights<Scalar> w;
      w.in = draw(cfg_.hidden, Expert::input_blocks * width);
      w.out = draw(width, cfg_.hidden);
      return w;
    };
    for (int e = 0; e < cfg_.num_experts; ++e)
      experts_.push_back(make(cfg_.expert_hidden));
    for (int s = 0; s < cfg_.num_shared_experts; ++s)
      shared_.push_back(make(cfg_.shared_width()));
  }

  [[nodiscard]] const layer_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Device& device() const noexcept { return device_; }
  /// Routed expert e's weights (mutable, to load trained weights; shapes must be kept).
  [[nodiscard]] expert_weights<Scalar>& expert(int e) {
    return experts_.at(static_cast<std::size_t>(e));
  }
  [[nodiscard]] const expert_weights<Scalar>& expert(int e) const {
    return experts_.at(static_cast<std::size_t>(e));
  }
  /// Shared expert s's weights.
  [[nodiscard]] expert_weights<Scalar>& shared_expert(int s) {
    return shared_.at(static_cast<std::size_t>(s));
  }
  [[nodiscard]] const expert_weights<Scalar>& shared_expert(int s) const {
    return shared_.at(static_cast<std::size_t>(s));
  }

  /// Grouped forward pass: out = Σ_kept w·expert(x) + Σ_shared shared(x), tokens × hidden.
  /// @throws config_error on a shape mismatch between x, the routing and the layer, or a
  /// non-finite token.
  [[nodiscard]] matrix forward(const matrix& x, const routing& r) const {
    check_inputs(x, r);
    const std::int64_t t_count = x.rows();
    const int k = r.top_k;
    matrix out = matrix::Zero(t_count, cfg_.hidden);
    // Counting sort of kept assignments by expert, tokens in order within an expert.
    std::vector<std::int64_t> start(static_cast<std::size_t>(cfg_.num_experts) + 1, 0);
    for (std::size_t s = 0; s < r.expert.size(); ++s)
      if (r.kept[s])
        ++start[static_cast<std::size_t>(r.expert[s]) + 1];
    for (std::size_t e = 0; e < static_cast<std::size_t>(cfg_.num_experts); ++e)
      start[e + 1] += start[e];
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    std::vector<std::int64_t> token(static_cast<std::size_t>(start.back()));
    std::vector<Scalar> weight(token.size());
    for (std::int64_t t = 0; t < t_count; ++t)
      for (int j = 0; j < k; ++j) {
        const auto s = static_cast<std::size_t>(t * k + j);
        if (!r.kept[s])
          continue;
        const auto pos = static_cast<std::size_t>(fill[static_cast<std::size_t>(r.expert[s])]++);
        token[pos] = t;
        weight[pos] = static_cast<Scalar>(r.weight[s]);
      }
    matrix xe, h, a, y;
    for (int e = 0; e < cfg_.num_experts; ++e) {
      const std::int64_t b = start[static_cast<std::size_t>(e)],
                         n = start[static_cast<std::size_t>(e) + 1] - b;
      if (n == 0)
        continue;
      xe.resize(n, cfg_.hidden);
      for (std::int64_t i = 0; i < n; ++i)
        xe.row(i) = x.row(token[static_cast<std::size_t>(b + i)]);
      const expert_weights<Scalar>& w = experts_[static_cast<std::size_t>(e)];
      h.resize(n, w.in.cols());
      h.noalias() = xe * w.in;
      Expert::activate(h, a);
      y.resize(n, cfg_.hidden);
      y.noalias() = a * w.out;
      for (std::int64_t i = 0; i < n; ++i) {
        const auto pos = static_cast<std::size_t>(b + i);
        out.row(token[pos]) += weight[pos] * y.row(i);
      }
    }
    for (const expert_weights<Scalar>& w : shared_) {
      h.resize(t_count, w.in.cols());
      h.noalias() = x * w.in;
      Expert::activate(h, a);
      out.noalias() += a * w.out;
    }
    return out;
  }

  /// The article's per-token loop: for each token, for each kept expert, a vector-matrix FFN,
  /// then the shared experts token by token. The reference `forward` is tested against.
  [[nodiscard]] matrix forward_per_token(const matrix& x, const routing& r) const {
    check_inputs(x, r);
    matrix out = matrix::Zero(x.rows(), cfg_.hidden);
    matrix xt(1, cfg_.hidden), h, a, y(1, cfg_.hidden);
    auto ffn = [&](const expert_weights<Scalar>& w) {
      h.resize(1, w.in.cols());
      h.noalias() = xt * w.in;
      Expert::activate(h, a);
      y.noalias() = a * w.out;
    };
    for (std::int64_t t = 0; t < x.rows(); ++t) {
      xt = x.row(t);
      for (int j = 0; j < r.top_k; ++j) {
        if (!r.kept_at(t, j))
          continue;
        ffn(experts_[static_cast<std::size_t>(r.expert_at(t, j))]);
        out.row(t) += static_cast<Scalar>(r.weight_at(t, j)) * y;
      }
      for (const expert_weights<Scalar>& w : shared_) {
        ffn(w);
        out.row(t) += y;
      }
    }
    return out;
  }

  /// Matrix FLOPs of `forward` for routing r: 2·hidden·width·matrices per kept assignment plus
  /// the shared experts over all tokens.
  [[nodiscard]] double forward_flops(const routing& r) const {
    double kept = 0.0;
    for (std::int64_t l : r.load)
      kept += static_cast<double>(l);
    const double per =
        2.0 * cfg_.hidden * static_cast<double>(cfg_.expert_hidden) * Expert::matrices;
    const double shared = 2.0 * cfg_.hidden * static_cast<double>(cfg_.shared_width()) *
                          Expert::matrices * cfg_.num_shared_experts *
                          static_cast<double>(r.tokens);
    return kept * per + shared;
  }

private:
  void check_inputs(const matrix& x, const routing& r) const {
    constexpr std::string_view c = "moe::layer";
    if (x.cols() != cfg_.hidden)
      throw config_error(c, "tokens.cols",
                         fmt::format("({}) must equal hidden ({})", x.cols(), cfg_.hidden));
    if (r.tokens != x.rows())
      throw config_error(c, "routing.tokens",
                         fmt::format("({}) must equal tokens.rows ({})", r.tokens, x.rows()));
    if (r.num_experts != cfg_.num_experts)
      throw config_error(
          c, "routing.num_experts",
          fmt::format("({}) must equal num_experts ({})", r.num_experts, cfg_.num_experts));
    detail::check_all_finite<Scalar>(c, "tokens", x);
  }

  layer_config cfg_;
  Device device_;
  std::vector<expert_weights<Scalar>> experts_;
  std::vector<expert_weights<Scalar>> shared_;
};

/// SwiGLU MoE layer in float on the default device.
using layer = basic_layer<default_device>;

} // namespace infercost::moe
