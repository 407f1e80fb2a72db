#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "infercost/device/catalog.hpp"
#include "infercost/model/presets.hpp"
#include "infercost/moe/router.hpp"

using namespace infercost;
using moe::row_matrix;

namespace {

/// Brute-force reference routing: full sorts instead of partial ones, scores recomputed from
/// the definitions, capacity admitted by an explicit double loop.
struct reference_routing {
  std::vector<int> expert;
  std::vector<double> weight;
  std::vector<std::uint8_t> kept;
};

std::vector<int> sorted_by_score(const std::vector<double>& s, const std::vector<int>& among) {
  std::vector<std::pair<double, int>> v;
  for (int i : among)
    v.emplace_back(-s[static_cast<std::size_t>(i)], i); // ascending (-score, index)
  std::sort(v.begin(), v.end());
  std::vector<int> out;
  for (auto& p : v)
    out.push_back(p.second);
  return out;
}

reference_routing reference_route(const row_matrix<double>& logits, const moe::router_config& cfg,
                                  bool sigmoid, const std::vector<double>& bias, bool grouped,
                                  std::int64_t capacity) {
  const int e = cfg.num_experts, k = cfg.top_k;
  reference_routing r;
  for (Eigen::Index t = 0; t < logits.rows(); ++t) {
    std::vector<double> aff(static_cast<std::size_t>(e)), choice(static_cast<std::size_t>(e));
    if (sigmoid) {
      for (int i = 0; i < e; ++i) {
        aff[static_cast<std::size_t>(i)] = 1.0 / (1.0 + std::exp(-logits(t, i)));
        choice[static_cast<std::size_t>(i)] =
            aff[static_cast<std::size_t>(i)] + bias[static_cast<std::size_t>(i)];
      }
    } else {
      const double m = logits.row(t).maxCoeff();
      double sum = 0.0;
      for (int i = 0; i < e; ++i) {
        aff[static_cast<std::size_t>(i)] = std::exp(logits(t, i) - m);
        sum += aff[static_cast<std::size_t>(i)];
      }
      for (int i = 0; i < e; ++i) {
        aff[static_cast<std::size_t>(i)] /= sum;
        choice[static_cast<std::size_t>(i)] = aff[static_cast<std::size_t>(i)];
      }
    }
    std::vector<int> among;
    if (grouped) {
      const int size = e / cfg.n_group;
      std::vector<double> gscore(static_cast<std::size_t>(cfg.n_group));
      std::vector<int> groups(static_cast<std::size_t>(cfg.n_group));
      std::iota(groups.begin(), groups.end(), 0);
      for (int g = 0; g < cfg.n_group; ++g) {
        std::vector<int> members(static_cast<std::size_t>(size));
        std::iota(members.begin(), members.end(), g * size);
        const std::vector<int> best = sorted_by_score(choice, members);
        gscore[static_cast<std::size_t>(g)] =
            choice[static_cast<std::size_t>(best[0])] +
            (size >= 2 ? choice[static_cast<std::size_t>(best[1])] : 0.0);
      }
      const std::vector<int> gbest = sorted_by_score(gscore, groups);
      for (int a = 0; a < cfg.topk_group; ++a)
        for (int i = 0; i < size; ++i)
          among.push_back(gbest[static_cast<std::size_t>(a)] * size + i);
    } else {
      among.resize(static_cast<std::size_t>(e));
      std::iota(among.begin(), among.end(), 0);
    }
    const std::vector<int> best = sorted_by_score(choice, among);
    double denom = 0.0;
    for (int j = 0; j < k; ++j)
      denom += aff[static_cast<std::size_t>(best[static_cast<std::size_t>(j)])];
    for (int j = 0; j < k; ++j) {
      const int x = best[static_cast<std::size_t>(j)];
      r.expert.push_back(x);
      r.weight.push_back(aff[static_cast<std::size_t>(x)] *
                         (cfg.norm_topk_prob ? 1.0 / denom : 1.0) * cfg.routed_scaling_factor);
    }
  }
  r.kept.assign(r.expert.size(), 1);
  if (capacity >= 0) {
    std::vector<std::int64_t> used(static_cast<std::size_t>(e), 0);
    for (int j = 0; j < k; ++j)
      for (Eigen::Index t = 0; t < logits.rows(); ++t) {
        const auto s = static_cast<std::size_t>(t * k + j);
        auto& u = used[static_cast<std::size_t>(r.expert[s])];
        if (u < capacity)
          ++u;
        else
          r.kept[s] = 0;
      }
  }
  return r;
}

/// Logits drawn from {0, 1, 2} (many exact ties) or N(0, 1).
row_matrix<double> random_logits(Eigen::Index t, int e, bool ties, rng& g) {
  row_matrix<double> l(t, e);
  for (Eigen::Index i = 0; i < l.size(); ++i)
    l.data()[i] = ties ? static_cast<double>(g.uniform_int(3)) : g.normal();
  return l;
}

void check_against_reference(const moe::routing& r, const reference_routing& ref) {
  REQUIRE(r.expert == ref.expert);
  REQUIRE(r.kept == ref.kept);
  for (std::size_t s = 0; s < ref.weight.size(); ++s) {
    REQUIRE(std::isfinite(r.weight[s]));
    REQUIRE(r.weight[s] == Approx(ref.weight[s]).epsilon(1e-12));
  }
  // Conservation: demand = load + dropped per expert; Σ demand = tokens·top_k.
  std::int64_t total = 0;
  for (int i = 0; i < r.num_experts; ++i) {
    const auto x = static_cast<std::size_t>(i);
    REQUIRE(r.demand[x] == r.load[x] + r.dropped[x]);
    total += r.demand[x];
  }
  REQUIRE(total == r.tokens * r.top_k);
}

} // namespace

TEST_CASE("softmax top-k routing equals a brute-force reference, ties included", "[moe]") {
  const std::uint64_t seed = 20240601;
  INFO("seed " << seed);
  rng g(seed);
  for (const bool ties : {false, true})
    for (const int k : {1, 2, 6}) {
      const moe::router_config cfg{.num_experts = 16, .top_k = k, .hidden = 4};
      const moe::router r(cfg, row_matrix<double>::Zero(16, 4));
      const row_matrix<double> logits = random_logits(200, 16, ties, g);
      const moe::routing got = r.route_logits(logits);
      check_against_reference(got, reference_route(logits, cfg, false, {}, false, -1));
      for (std::int64_t t = 0; t < got.tokens; ++t) {
        double sum = 0.0;
        for (int j = 0; j < k; ++j)
          sum += got.weight_at(t, j);
        REQUIRE(sum == Approx(1.0).epsilon(1e-12));
      }
    }
}

TEST_CASE("sigmoid group-limited routing equals a brute-force reference, ties included", "[moe]") {
  const std::uint64_t seed = 7;
  INFO("seed " << seed);
  rng g(seed);
  for (const bool ties : {false, true}) {
    // DeepSeek-V3's shape scaled down: 32 experts in 8 groups, keep 4 groups, top-8.
    const moe::router_config cfg{.num_experts = 32,
                                 .top_k = 8,
                                 .hidden = 4,
                                 .n_group = 8,
                                 .topk_group = 4,
                                 .routed_scaling_factor = 2.5};
    moe::deepseek_router r(cfg, row_matrix<double>::Zero(32, 4));
    std::vector<double> bias(32);
    for (double& b : bias)
      b = ties ? 0.0 : g.normal(0.0, 0.05);
    r.set_bias(bias);
    const row_matrix<double> logits = random_logits(300, 32, ties, g);
    const moe::routing got = r.route_logits(logits);
    check_against_reference(got, reference_route(logits, cfg, true, bias, true, -1));
    for (std::int64_t t = 0; t < got.tokens; ++t) {
      double sum = 0.0;
      for (int j = 0; j < 8; ++j) {
        sum += got.weight_at(t, j);
        // Every chosen expert lies in one of at most 4 groups.
      }
      REQUIRE(sum == Approx(2.5).epsilon(1e-12));
      std::vector<int> groups;
      for (int j = 0; j < 8; ++j)
        groups.push_back(got.expert_at(t, j) / 4);
      std::sort(groups.begin(), groups.end());
      REQUIRE(std::unique(groups.begin(), groups.end()) - groups.begin() <= 4);
    }
  }
}

TEST_CASE("capacity-limited routing drops the same assignments as a reference", "[moe]") {
  const std::uint64_t seed = 99;
  INFO("seed " << seed);
  rng g(seed);
  for (const double cf : {0.5, 1.0, 1.25, 2.0}) {
    const moe::router_config cfg{.num_experts = 8, .top_k = 2, .hidden = 4, .capacity_factor = cf};
    const moe::switch_router r(cfg, row_matrix<double>::Zero(8, 4));
    row_matrix<double> logits = random_logits(64, 8, true, g);
    logits.col(3).array() += 1.5; // a hot expert, so something is dropped
    const moe::routing got = r.route_logits(logits);
    // capacity = ceil(64·2/8·cf)
    REQUIRE(got.capacity == static_cast<std::int64_t>(std::ceil(16.0 * cf)));
    check_against_reference(got, reference_route(logits, cfg, false, {}, false, got.capacity));
    for (std::int64_t l : got.load)
      REQUIRE(l <= got.capacity);
    REQUIRE(got.dropped[3] > 0);
  }
}

TEST_CASE("router drops tokens over capacity to the residual path", "[moe]") {
  // 8 tokens all prefer expert 0; E = 4, k = 1, cf = 1: capacity = ceil(8·1/4·1) = 2, so tokens
  // 0 and 1 are kept and 6 assignments are dropped.
  const moe::router_config cfg{.num_experts = 4, .top_k = 1, .hidden = 2, .capacity_factor = 1.0};
  const moe::switch_router r(cfg, row_matrix<double>::Zero(4, 2));
  row_matrix<double> logits = row_matrix<double>::Zero(8, 4);
  logits.col(0).setConstant(5.0);
  const moe::routing got = r.route_logits(logits);
  REQUIRE(got.capacity == 2);
  REQUIRE(got.load == std::vector<std::int64_t>{2, 0, 0, 0});
  REQUIRE(got.dropped == std::vector<std::int64_t>{6, 0, 0, 0});
  REQUIRE(got.kept_at(0, 0));
  REQUIRE(got.kept_at(1, 0));
  REQUIRE_FALSE(got.kept_at(2, 0));
  REQUIRE(got.drop_rate() == Approx(0.75));
}

TEST_CASE("router breaks exact ties to the lower expert index where the article over-selects",
          "[moe]") {
  // A zero token gives every expert the same score.
  const moe::router_config cfg{.num_experts = 8, .top_k = 2, .hidden = 16};
  const moe::router r = moe::router::with_random_gate(cfg, 11);
  const row_matrix<float> x = row_matrix<float>::Zero(3, 16);
  const moe::routing got = r.route(x);
  for (std::int64_t t = 0; t < 3; ++t) {
    REQUIRE(got.expert_at(t, 0) == 0);
    REQUIRE(got.expert_at(t, 1) == 1);
    REQUIRE(got.weight_at(t, 0) == Approx(0.5));
  }
  // The article's step 3 keeps `scores >= threshold`: with all scores equal every expert passes,
  // so a token gets 8 experts with weight 1/8 each instead of 2 with 1/2.
  const Eigen::RowVectorXd scores = Eigen::RowVectorXd::Zero(8);
  std::vector<double> s(scores.data(), scores.data() + 8);
  std::nth_element(s.begin(), s.begin() + 6, s.end());
  const double threshold = s[6];
  REQUIRE((scores.array() >= threshold).count() == 8);
}

TEST_CASE("router on float and double tokens agrees and uses the gate", "[moe]") {
  const std::uint64_t seed = 5;
  INFO("seed " << seed);
  const moe::router_config cfg{.num_experts = 16, .top_k = 4, .hidden = 32};
  const moe::router r = moe::router::with_random_gate(cfg, seed);
  rng g(seed + 1);
  row_matrix<double> x(50, 32);
  for (Eigen::Index i = 0; i < x.size(); ++i)
    x.data()[i] = g.normal();
  const moe::routing rd = r.route(x);
  const row_matrix<double> logits = x * r.gate().transpose();
  REQUIRE(rd.expert == r.route_logits(logits).expert);
  const row_matrix<float> xf = x.cast<float>();
  const moe::routing rf = r.route(xf);
  // Float logits may reorder near-ties; the first choice of a clear winner agrees.
  int agree = 0;
  for (std::int64_t t = 0; t < 50; ++t)
    agree += rf.expert_at(t, 0) == rd.expert_at(t, 0);
  REQUIRE(agree >= 48);
  double p = 0.0;
  for (double a : rd.mean_affinity)
    p += a;
  REQUIRE(p == Approx(1.0));
}

TEST_CASE("Mixtral weights are the softmax over the top-2 logits", "[moe]") {
  const moe::router_config cfg = moe::router_config::from_model(model::presets::mixtral_8x7b());
  REQUIRE(cfg.num_experts == 8);
  REQUIRE(cfg.top_k == 2);
  REQUIRE(cfg.hidden == 4096);
  const moe::mixtral_router r(cfg, row_matrix<double>::Zero(8, 4096));
  row_matrix<double> logits(1, 8);
  logits << 1, 2, 3, 0, -1, 0.5, 2.5, -3;
  const moe::routing got = r.route_logits(logits);
  // HF MixtralSparseMoeBlock: softmax, top-2, divide by their sum = softmax over {3, 2.5}.
  REQUIRE(got.expert_at(0, 0) == 2);
  REQUIRE(got.expert_at(0, 1) == 6);
  const double w0 = std::exp(3.0) / (std::exp(3.0) + std::exp(2.5));
  REQUIRE(got.weight_at(0, 0) == Approx(w0).epsilon(1e-14));
  REQUIRE(got.weight_at(0, 1) == Approx(1.0 - w0).epsilon(1e-14));
}

TEST_CASE("DeepSeek-V3 router config follows the model preset", "[moe]") {
  const moe::router_config cfg = moe::router_config::from_model(model::presets::deepseek_v3());
  REQUIRE(cfg.num_experts == 256);
  REQUIRE(cfg.top_k == 8);
  REQUIRE(cfg.n_group == 8);
  REQUIRE(cfg.topk_group == 4);
  REQUIRE(cfg.routed_scaling_factor == 2.5);
  REQUIRE(cfg.num_shared_experts == 1);
  REQUIRE(cfg.expert_hidden == 2048);
  REQUIRE_THROWS_AS(moe::router_config::from_model(model::presets::llama3_8b()), config_error);
}

TEST_CASE("auxiliary-loss-free bias moves against the load", "[moe]") {
  const moe::router_config cfg{.num_experts = 4, .top_k = 1, .hidden = 2, .bias_update_rate = 0.01};
  moe::deepseek_router r(cfg, row_matrix<double>::Zero(4, 2));
  row_matrix<double> logits = row_matrix<double>::Zero(8, 4);
  logits.col(1).setConstant(1.0); // every token picks expert 1: loads {0, 8, 0, 0}, mean 2
  const moe::routing got = r.route_logits(logits);
  r.update_bias(got);
  REQUIRE(r.bias() == std::vector<double>{0.01, -0.01, 0.01, 0.01});
}

TEST_CASE("router rejects bad configuration and bad input with clear errors", "[moe]") {
  using Catch::Matchers::Contains;
  const auto make = [](moe::router_config c) {
    return moe::router(c, row_matrix<double>::Zero(c.num_experts, c.hidden));
  };
  REQUIRE_THROWS_WITH(make({.num_experts = 8, .top_k = 9, .hidden = 2}),
                      "moe::router: top_k (9) must be <= num_experts (8)");
  REQUIRE_THROWS_WITH(make({.num_experts = 8, .top_k = 2, .hidden = 2, .n_group = 3}),
                      "moe::router: n_group (3) must divide num_experts (8)");
  REQUIRE_THROWS_WITH(
      make({.num_experts = 8, .top_k = 2, .hidden = 2, .n_group = 2, .topk_group = 3}),
      "moe::router: topk_group (3) must be <= n_group (2)");
  REQUIRE_THROWS_WITH(
      make({.num_experts = 8, .top_k = 5, .hidden = 2, .n_group = 4, .topk_group = 2}),
      Contains("top_k (5) must be <= topk_group * experts per group (4)"));
  REQUIRE_THROWS_WITH(make({.num_experts = 8, .top_k = 2, .hidden = 2, .capacity_factor = 0.0}),
                      "moe::router: capacity_factor (0) must be > 0");
  REQUIRE_THROWS_WITH(make({.num_experts = 8, .top_k = 2, .hidden = 2, .capacity_factor = -1.0}),
                      "moe::router: capacity_factor (-1) must be > 0");
  REQUIRE_THROWS_WITH(make({.num_experts = 0, .top_k = 2, .hidden = 2}),
                      "moe::router: num_experts (0) must be > 0");

  const moe::router r = make({.num_experts = 8, .top_k = 2, .hidden = 4});
  row_matrix<double> x = row_matrix<double>::Zero(3, 4);
  x(1, 2) = std::nan("");
  REQUIRE_THROWS_WITH(r.route(x), "moe::router: tokens(1, 2) (nan) must be finite");
  x(1, 2) = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(r.route(x), "moe::router: tokens(1, 2) (inf) must be finite");
  row_matrix<float> xf = row_matrix<float>::Zero(2, 4);
  xf(0, 0) = -std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(r.route(xf), config_error);
  const row_matrix<double> wide = row_matrix<double>::Zero(3, 5);
  REQUIRE_THROWS_WITH(r.route(wide), "moe::router: tokens.cols (5) must equal hidden (4)");
  REQUIRE_THROWS_WITH(r.route_logits(row_matrix<double>::Zero(3, 7)),
                      "moe::router: logits.cols (7) must equal num_experts (8)");
  REQUIRE_THROWS_WITH(
      moe::router({.num_experts = 8, .top_k = 2, .hidden = 4}, row_matrix<double>::Zero(8, 3)),
      "moe::router: gate (8 x 3) must be num_experts x hidden (8 x 4)");
  moe::router r2 = make({.num_experts = 8, .top_k = 2, .hidden = 4});
  REQUIRE_THROWS_WITH(r2.set_bias(std::vector<double>(7, 0.0)),
                      "moe::router: bias (size 7) must have num_experts (8) entries");
}

TEMPLATE_TEST_CASE("router cost is the gate GEMM on every device family", "[moe]",
                   infercost::h800_sxm, infercost::ascend_910b) {
  const moe::router_config cfg = moe::router_config::from_model(model::presets::deepseek_v3());
  const moe::basic_router<TestType, moe::sigmoid_bias_scoring, moe::group_limited_topk> r(
      cfg, row_matrix<double>::Zero(256, 7168));
  const op_work w = r.work(4096, precision::bf16);
  REQUIRE(w.flops == 2.0 * 4096 * 7168 * 256);
  REQUIRE(w.bytes_read == (4096.0 * 7168 + 7168.0 * 256) * 2.0);
  const double t = r.time_s(4096, precision::bf16);
  REQUIRE(std::isfinite(t));
  REQUIRE(t > 0.0);
  REQUIRE(r.time_s(8192) > t);
}

namespace {
/// A user's selection policy: the top_k experts among the lower half of the experts (a toy
/// "one group of two" limit), with its group limit for the cost face.
struct lower_half_topk {
  static constexpr std::string_view name = "lower_half_topk";
  static void select(std::span<const double> choice, const moe::router_config& cfg,
                     std::span<int> out, moe::selection_scratch& scratch) {
    moe::topk_selection::select(choice.first(choice.size() / 2), cfg, out, scratch);
  }
  static moe::expert_groups group_limit(const moe::router_config& /*cfg*/) {
    return {.count = 2, .per_token = 1};
  }
};

/// A user's scoring policy, not noexcept: choice = affinity = the logit itself.
struct identity_scoring {
  static constexpr std::string_view name = "identity";
  static void score(std::span<const double> logits, std::span<const double> /*bias*/,
                    std::span<double> affinity, std::span<double> choice) {
    std::copy(logits.begin(), logits.end(), affinity.begin());
    std::copy(logits.begin(), logits.end(), choice.begin());
  }
};

/// A user's capacity policy: one assignment per expert, whatever the batch.
struct one_each {
  static constexpr std::string_view name = "one_each";
  static int capacity(std::int64_t /*tokens*/, const moe::router_config& /*cfg*/) { return 1; }
};
} // namespace

TEST_CASE("a user's own policies work in the router and describe themselves to the cost face",
          "[moe]") {
  using user_router = moe::basic_router<h800_sxm, identity_scoring, lower_half_topk, one_each>;
  const moe::router_config cfg{.num_experts = 4, .top_k = 1, .hidden = 2, .norm_topk_prob = false};
  const user_router r(cfg, row_matrix<double>::Zero(4, 2));
  row_matrix<double> logits(3, 4);
  logits << 0.1, 0.2, 9.0, 9.0, //
      0.3, 0.2, 9.0, 9.0,       //
      0.5, 0.4, 9.0, 9.0;
  const moe::routing got = r.route_logits(logits);
  // Experts 2 and 3 are never chosen (upper half); expert 1 wins token 0, expert 0 tokens 1, 2;
  // one each: token 2's assignment is dropped.
  REQUIRE(got.expert == std::vector<int>{1, 0, 0});
  REQUIRE(got.load == std::vector<std::int64_t>{1, 1, 0, 0});
  REQUIRE(got.dropped == std::vector<std::int64_t>{1, 0, 0, 0});
  REQUIRE(got.weight[0] == Approx(0.2)); // the identity affinity, no renormalisation

  const moe::any_router_policy policy = user_router::policy_type{};
  CHECK(policy.scoring_name() == "identity");
  CHECK(policy.selection_name() == "lower_half_topk");
  CHECK(policy.capacity_name() == "one_each");
  CHECK(policy.group_limit(cfg) == moe::expert_groups{.count = 2, .per_token = 1});
  CHECK(policy.capacity(1000, cfg) == 1);
  // The built-in policies: DeepSeek's group limit comes from the config, Switch's capacity is
  // ceil(T·k/E·cf) = ceil(100·1/4·1.25) = 32.
  const moe::router_config ds{.num_experts = 16, .top_k = 4, .n_group = 4, .topk_group = 2};
  CHECK(moe::any_router_policy(moe::deepseek_router::policy_type{}).group_limit(ds) ==
        moe::expert_groups{.count = 4, .per_token = 2});
  CHECK(moe::any_router_policy{}.group_limit(ds) == moe::expert_groups{});
  CHECK(moe::any_router_policy{}.capacity(100, cfg) == -1);
  CHECK(moe::any_router_policy(moe::switch_router::policy_type{}).capacity(100, cfg) == 32);
}
