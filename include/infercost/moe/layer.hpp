/// @file
/// The MoE layer's forward pass with real expert FFNs in Eigen.
///
/// `basic_layer<Device, Expert, Scalar>` holds E routed experts and S shared experts, each an FFN
/// hidden → width → hidden: `swiglu_expert` (down(silu(x·W_gate) ∘ (x·W_up)); DeepSeek, Qwen,
/// Mixtral) or `relu_expert` (the article's two-layer expert, relu(x·W1)·W2). `forward` groups
/// the kept assignments by expert (a counting sort: expert e owns rows [start_e, start_{e+1}) of
/// the sorted assignments, tokens ascending), runs one GEMM chain per expert over its gathered
/// tokens into those rows, then gives each token the sum of its kept rows scaled by the combine
/// weights, in ascending expert order, and adds the shared experts over all tokens. Dropped
/// assignments contribute nothing: the caller's residual connection carries those tokens.
///
/// Threading (`forward_options::threads`, std::thread, no OpenMP): the experts are dealt to the
/// threads longest-first (each to the least-loaded thread); then the tokens are split across the
/// threads for the combine and the shared experts, whose GEMMs run over fixed blocks of
/// `shared_row_block` token rows (one block below 2·shared_row_block tokens). The layer makes the
/// same matrix products, on the same operands, and sums each token's rows in the same order,
/// whatever the thread count, so the result is bit-identical for every thread count as long as
/// the products give the same bits for the same call (Eigen's own do; so does a BLAS run with
/// one thread per call, e.g. OPENBLAS_NUM_THREADS=1, which is also what keeps a threaded BLAS from
/// oversubscribing the layer's threads). `forward_per_token` is the article's per-token loop
/// (single-threaded), kept as the reference the grouped pass is tested against.
///
/// Products: Eigen's (`noalias()` GEMMs over row-major blocks). A program that defines
/// `EIGEN_USE_BLAS` (in every translation unit, before any Eigen header) and links a BLAS runs
/// them on it: OpenBLAS or BLIS, which pick their kernels for the processor at run time. The
/// bits of a float result depend on the kernels (Eigen's depend on the instruction set it was
/// compiled for, a BLAS's on the processor it detects), so they may differ between machines and
/// builds; the grouped pass and the per-token loop agree to rounding (tests: 1e−5 relative in
/// float, 1e−13 in double).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <string_view>
#include <thread>
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
    act.resize(in.rows(), in.cols() / 2);
    activate_into(in, act);
  }
  /// The same into `act`, already n × w (e.g. a map over scratch memory).
  template <class In, class Out>
  static void activate_into(const Eigen::MatrixBase<In>& in, Eigen::MatrixBase<Out>& act) {
    const Eigen::Index w = in.cols() / 2;
    const auto g = in.leftCols(w).array();
    act.array() = g / (typename In::Scalar(1) + (-g).exp()) * in.rightCols(w).array();
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
  /// The same into `act`, already the shape of `in` (e.g. a map over scratch memory).
  template <class In, class Out>
  static void activate_into(const Eigen::MatrixBase<In>& in, Eigen::MatrixBase<Out>& act) {
    act = in.cwiseMax(typename In::Scalar(0));
  }
};

/// Options of `basic_layer::forward`.
struct forward_options {
  /// Worker threads: 1 runs on the caller's thread, 0 means std::thread::hardware_concurrency().
  /// Must be >= 0. The result does not depend on it, bit for bit (see the file comment).
  int threads = 1;
};

/// Token rows per block of the shared experts' GEMMs: fixed, so the blocks, and the products
/// over them, do not depend on the thread count. A multiple of 48 (Eigen 3.4's register blocks:
/// nr = 4 columns, mr = 3 packets of up to 16 lanes; its depth blocking depends on the depth
/// only), so with Eigen's own products a GEMM over a block of rows computes each row exactly as
/// the GEMM over all rows does.
inline constexpr std::int64_t shared_row_block = 96;

namespace detail {

// The helpers below are templates (with no parameter to deduce) so that their std::thread and
// sorting code is compiled only where a program runs a layer, not wherever this header is
// included; each still has one instantiation.

/// Runs fn(0), ..., fn(n−1) on n threads (fn(0) on the caller's), waits for all, and rethrows
/// the exception of the lowest-numbered worker that threw, if any.
template <class = void> void run_workers(int n, const std::function<void(int)>& fn) {
  if (n <= 1) {
    fn(0);
    return;
  }
  std::vector<std::exception_ptr> error(static_cast<std::size_t>(n));
  auto guarded = [&](int i) {
    try {
      fn(i);
    } catch (...) {
      error[static_cast<std::size_t>(i)] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> pool;
    pool.reserve(static_cast<std::size_t>(n) - 1);
    for (int i = 1; i < n; ++i)
      pool.emplace_back(guarded, i);
    guarded(0);
  } // jthreads join here
  for (const std::exception_ptr& e : error)
    if (e)
      std::rethrow_exception(e);
}

/// Deals items 0..load.size()−1 to `workers` lists, heaviest first (ties: lower index), each to
/// the least-loaded list (ties: lower index); items with zero load are left out. Greedy
/// longest-processing-time scheduling: the makespan is at most 4/3 of the optimum.
template <class = void>
std::vector<std::vector<int>> deal_longest_first(const std::vector<std::int64_t>& load,
                                                 int workers) {
  std::vector<int> order;
  for (std::size_t i = 0; i < load.size(); ++i)
    if (load[i] > 0)
      order.push_back(static_cast<int>(i));
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return load[static_cast<std::size_t>(a)] > load[static_cast<std::size_t>(b)];
  });
  std::vector<std::vector<int>> out(static_cast<std::size_t>(workers));
  std::vector<std::int64_t> total(static_cast<std::size_t>(workers), 0);
  for (int item : order) {
    const auto w =
        static_cast<std::size_t>(std::min_element(total.begin(), total.end()) - total.begin());
    out[w].push_back(item);
    total[w] += load[static_cast<std::size_t>(item)];
  }
  return out;
}

/// Worker threads for `requested` (0 = hardware concurrency). @throws config_error if < 0.
template <class = void> int resolve_threads(int requested) {
  check_non_negative(std::string_view("moe::layer"), "threads", requested);
  if (requested == 0)
    return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return requested;
}

} // namespace detail

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
template <device_cost_model Device, class Expert, class Scalar> class basic_layer {
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

  /// Grouped forward pass: out = Σ_kept w·expert(x) + Σ_shared shared(x), tokens × hidden, on
  /// `opt.threads` threads; bit-identical for every thread count.
  /// @throws config_error on a shape mismatch between x, the routing and the layer, a
  /// non-finite token, or opt.threads < 0.
  [[nodiscard]] matrix forward(const matrix& x, const routing& r, forward_options opt = {}) const {
    const int threads = detail::resolve_threads(opt.threads);
    check_inputs(x, r);
    const std::int64_t t_count = x.rows();
    const int k = r.top_k;
    const auto experts = static_cast<std::size_t>(cfg_.num_experts);
    matrix out = matrix::Zero(t_count, cfg_.hidden);
    // Counting sort of kept assignments by expert, tokens in order within an expert; slot s of
    // the routing lands in row pos[s] of the sorted assignments (−1 when dropped).
    std::vector<std::int64_t> start(experts + 1, 0);
    for (std::size_t s = 0; s < r.expert.size(); ++s)
      if (r.kept[s])
        ++start[static_cast<std::size_t>(r.expert[s]) + 1];
    for (std::size_t e = 0; e < experts; ++e)
      start[e + 1] += start[e];
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    std::vector<std::int64_t> token(static_cast<std::size_t>(start.back()));
    std::vector<std::int64_t> pos(r.expert.size(), -1);
    std::vector<Scalar> weight(token.size());
    for (std::int64_t t = 0; t < t_count; ++t)
      for (int j = 0; j < k; ++j) {
        const auto s = static_cast<std::size_t>(t * k + j);
        if (!r.kept[s])
          continue;
        const std::int64_t p = fill[static_cast<std::size_t>(r.expert[s])]++;
        pos[s] = p;
        token[static_cast<std::size_t>(p)] = t;
        weight[static_cast<std::size_t>(p)] = static_cast<Scalar>(r.weight[s]);
      }

    // Phase 1: expert e's outputs into rows [start_e, start_{e+1}) of ys.
    matrix ys(start.back(), cfg_.hidden);
    std::vector<std::int64_t> load(experts);
    for (std::size_t e = 0; e < experts; ++e)
      load[e] = start[e + 1] - start[e];
    const std::vector<std::vector<int>> dealt =
        detail::deal_longest_first(load, std::max(1, threads));
    int busy = 0;
    for (const std::vector<int>& d : dealt)
      busy += d.empty() ? 0 : 1;
    detail::run_workers(busy, [&](int worker) {
      // Scratch sized once for this worker's largest expert; each expert works in its leading
      // rows through aligned maps (the same layout, alignment and arithmetic as matrices of its
      // own size), so nothing is allocated per expert.
      const std::vector<int>& mine = dealt[static_cast<std::size_t>(worker)];
      std::int64_t most = 0;
      for (int e : mine)
        most = std::max(most, load[static_cast<std::size_t>(e)]);
      const Eigen::Index in_cols = Expert::input_blocks * Eigen::Index{cfg_.expert_hidden};
      matrix xe_buf(most, cfg_.hidden), h_buf(most, in_cols), a_buf(most, cfg_.expert_hidden);
      using view = Eigen::Map<matrix, Eigen::AlignedMax>;
      for (int e : mine) {
        const std::int64_t b = start[static_cast<std::size_t>(e)],
                           n = start[static_cast<std::size_t>(e) + 1] - b;
        view xe(xe_buf.data(), n, cfg_.hidden);
        for (std::int64_t i = 0; i < n; ++i)
          xe.row(i) = x.row(token[static_cast<std::size_t>(b + i)]);
        const expert_weights<Scalar>& w = experts_[static_cast<std::size_t>(e)];
        view h(h_buf.data(), n, in_cols);
        h.noalias() = xe * w.in;
        view a(a_buf.data(), n, cfg_.expert_hidden);
        Expert::activate_into(h, a);
        ys.middleRows(b, n).noalias() = a * w.out;
      }
    });

    // Phase 2: per block of token rows, the weighted sum of each token's rows in ascending
    // expert order, then the shared experts over the block.
    const std::int64_t block = shared_.empty()
                                   ? std::max<std::int64_t>(1, (t_count + threads - 1) / threads)
                                   : shared_row_block;
    const std::int64_t blocks = std::max<std::int64_t>(1, t_count / block);
    const int workers = static_cast<int>(std::min<std::int64_t>(threads, blocks));
    detail::run_workers(workers, [&](int worker) {
      const std::int64_t b0 = blocks * worker / workers, b1 = blocks * (worker + 1) / workers;
      const std::int64_t r0 = b0 * block, r1 = b1 == blocks ? t_count : b1 * block;
      std::vector<std::int64_t> rows;
      for (std::int64_t t = r0; t < r1; ++t) {
        rows.clear();
        for (int j = 0; j < k; ++j)
          if (const std::int64_t p = pos[static_cast<std::size_t>(t * k + j)]; p >= 0)
            rows.push_back(p);
        std::sort(rows.begin(), rows.end());
        for (std::int64_t p : rows)
          out.row(t) += weight[static_cast<std::size_t>(p)] * ys.row(p);
      }
      matrix h, a;
      for (const expert_weights<Scalar>& w : shared_) {
        if (blocks == 1) {
          h.noalias() = x * w.in;
          Expert::activate(h, a);
          out.noalias() += a * w.out;
          continue;
        }
        for (std::int64_t bb = b0; bb < b1; ++bb) {
          const std::int64_t q0 = bb * block, n = (bb + 1 == blocks ? t_count : q0 + block) - q0;
          h.noalias() = x.middleRows(q0, n) * w.in;
          Expert::activate(h, a);
          out.middleRows(q0, n).noalias() += a * w.out;
        }
      }
    });
    return out;
  }

  /// The article's per-token loop: for each token, for each kept expert, a vector-matrix FFN,
  /// then the shared experts token by token, on the caller's thread. The reference `forward` is
  /// tested against.
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
