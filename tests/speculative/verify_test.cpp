#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "infercost/speculative/decoder.hpp"
#include "infercost/speculative/verify.hpp"

using namespace infercost;
using namespace infercost::speculative;

static_assert(verify_policy<rejection_sampling>);
static_assert(verify_policy<greedy>);

namespace {

using dist_map = std::map<std::vector<token>, double>;

/// The common mistake the tests must catch: on rejection, resample from p instead of from
/// norm(max(0, p − q)). Its output is biased towards tokens the draft over-proposes.
struct resample_from_target {
  static constexpr std::string_view name = "resample_from_target";
  static token propose(const Eigen::VectorXd& q, rng& g) { return sample_unnormalised(q, g); }
  static double accept_probability(double p_x, double q_x) {
    return rejection_sampling::accept_probability(p_x, q_x);
  }
  static void residual(const Eigen::VectorXd& p, const Eigen::VectorXd&, Eigen::VectorXd& out) {
    out = p;
  }
  static verify_result verify(std::span<const Eigen::VectorXd> p,
                              std::span<const Eigen::VectorXd> q, std::span<const token> draft,
                              rng& g, Eigen::VectorXd&) {
    for (std::size_t i = 0; i < draft.size(); ++i) {
      const auto x = static_cast<Eigen::Index>(draft[i]);
      if (g.uniform01() >= accept_probability(p[i][x], q[i][x]))
        return {static_cast<int>(i), sample_unnormalised(p[i], g)};
    }
    return {static_cast<int>(draft.size()), sample_unnormalised(p[draft.size()], g)};
  }
};

/// Exact distribution of the first `length` generated tokens, by enumerating every branch of the
/// algorithm (every draft token, accept or reject, every residual or bonus token) with its
/// probability, using the policy's own accept_probability and residual. Steps chain until
/// `length` tokens are out.
template <class Policy> struct enumerator {
  const ngram_model& draft;
  const ngram_model& target;
  int gamma;
  std::size_t start;
  std::size_t length;
  dist_map out;

  void emit(std::vector<token> seq, double prob) {
    if (prob == 0.0)
      return;
    if (seq.size() - start >= length) {
      out[std::vector<token>(seq.begin() + static_cast<std::ptrdiff_t>(start),
                             seq.begin() + static_cast<std::ptrdiff_t>(start + length))] += prob;
      return;
    }
    branch(seq, seq.size(), 0, prob);
  }
  // `seq` holds the accepted sequence up to `base` plus i drafted tokens.
  void branch(std::vector<token> seq, std::size_t base, int i, double prob) {
    const Eigen::VectorXd& p = target.next_distribution(seq);
    if (i == gamma) {
      for (Eigen::Index x = 0; x < p.size(); ++x) {
        std::vector<token> s = seq;
        s.push_back(static_cast<token>(x));
        emit(s, prob * p[x]);
      }
      return;
    }
    const Eigen::VectorXd& q = draft.next_distribution(seq);
    Eigen::VectorXd r;
    Policy::residual(p, q, r);
    const double rsum = r.sum();
    for (Eigen::Index x = 0; x < q.size(); ++x) {
      if (q[x] == 0.0)
        continue;
      const double a = Policy::accept_probability(p[x], q[x]);
      std::vector<token> s = seq;
      s.push_back(static_cast<token>(x));
      if (a > 0.0)
        branch(s, base, i + 1, prob * q[x] * a);
      if (a < 1.0) {
        for (Eigen::Index y = 0; y < r.size(); ++y) {
          std::vector<token> t = seq;
          t.push_back(static_cast<token>(y));
          emit(t, prob * q[x] * (1.0 - a) * r[y] / rsum);
        }
      }
    }
  }
};

/// Exact distribution of `length` tokens sampled autoregressively from the target alone.
dist_map target_joint(const ngram_model& target, std::vector<token> seq, std::size_t length) {
  dist_map out;
  const std::size_t start = seq.size();
  auto rec = [&](auto&& self, std::vector<token> s, double prob) -> void {
    if (s.size() - start == length) {
      out[std::vector<token>(s.begin() + static_cast<std::ptrdiff_t>(start), s.end())] += prob;
      return;
    }
    const Eigen::VectorXd& p = target.next_distribution(s);
    for (Eigen::Index x = 0; x < p.size(); ++x) {
      std::vector<token> t = s;
      t.push_back(static_cast<token>(x));
      self(self, t, prob * p[x]);
    }
  };
  rec(rec, seq, 1.0);
  return out;
}

double max_abs_diff(const dist_map& a, const dist_map& b) {
  double m = 0.0;
  for (const auto& [k, v] : a) {
    const auto it = b.find(k);
    m = std::max(m, std::abs(v - (it == b.end() ? 0.0 : it->second)));
  }
  for (const auto& [k, v] : b)
    if (a.find(k) == a.end())
      m = std::max(m, std::abs(v));
  return m;
}

Eigen::VectorXd vec3(double a, double b, double c) {
  Eigen::VectorXd v(3);
  v << a, b, c;
  return v;
}

/// Wilson & Hilferty (1931) approximation of the chi-square quantile with k degrees of freedom:
/// χ²_k(1 − a) ≈ k·(1 − 2/(9k) + z_{1−a}·√(2/(9k)))³; relative error < 1e-3 for k >= 10 at
/// the upper tail (Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions vol. 1,
/// §18.5).
double chi_square_critical(double k, double z) {
  const double c = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - c + z * std::sqrt(c), 3.0);
}

/// Pearson's statistic of `counts` against probabilities `p` over n samples, with outcomes
/// merged (in increasing order of expected count) until every bin expects >= 5 (Cochran 1954).
/// Returns {statistic, degrees of freedom}.
std::pair<double, double> pearson(const std::vector<std::int64_t>& counts, const Eigen::VectorXd& p,
                                  double n) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(p.size()));
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<Eigen::Index>(i);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] < p[b]; });
  double stat = 0.0, e = 0.0, o = 0.0;
  int bins = 0;
  for (Eigen::Index i : order) {
    e += n * p[i];
    o += static_cast<double>(counts[static_cast<std::size_t>(i)]);
    if (e >= 5.0) {
      stat += (o - e) * (o - e) / e;
      ++bins;
      e = o = 0.0;
    }
  }
  if (e > 0.0) { // the remainder joins the last bin's statistic as its own small bin
    stat += (o - e) * (o - e) / std::max(e, 5.0);
    ++bins;
  }
  return {stat, bins - 1.0};
}

/// Marginal distributions of the tokens at positions 1..length after `prompt` under an
/// order-1 target: the state of position k+1 is a function of token k, so the marginal is the
/// state distribution pushed through the rows.
std::vector<Eigen::VectorXd> order1_marginals(const ngram_model& target, token last,
                                              std::size_t length) {
  REQUIRE(target.order() == 1);
  const Eigen::Index v = static_cast<Eigen::Index>(target.vocab_size());
  std::vector<std::size_t> state_of_token(static_cast<std::size_t>(v));
  for (Eigen::Index x = 0; x < v; ++x) {
    const std::vector<token> c{static_cast<token>(x)};
    state_of_token[static_cast<std::size_t>(x)] = target.state_of(c);
  }
  Eigen::VectorXd state = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(target.num_states()));
  state[static_cast<Eigen::Index>(target.state_of(std::vector<token>{last}))] = 1.0;
  std::vector<Eigen::VectorXd> out;
  for (std::size_t k = 0; k < length; ++k) {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(v);
    for (Eigen::Index s = 0; s < state.size(); ++s)
      if (state[s] > 0.0)
        m += state[s] * target.row(static_cast<std::size_t>(s));
    out.push_back(m);
    state.setZero();
    for (Eigen::Index x = 0; x < v; ++x)
      state[static_cast<Eigen::Index>(state_of_token[static_cast<std::size_t>(x)])] += m[x];
  }
  return out;
}

} // namespace

TEST_CASE("enumerating every branch of rejection sampling gives exactly the target's "
          "distribution",
          "[speculative][verify]") {
  // V = 3, order 1, 3 hashed states; target and draft rows chosen by hand, far apart.
  const ngram_model target(ngram_config{.order = 1},
                           {vec3(0.5, 0.3, 0.2), vec3(0.1, 0.1, 0.8), vec3(0.25, 0.7, 0.05)});
  const ngram_model draft(ngram_config{.order = 1}, {vec3(0.2, 0.2, 0.6), vec3(0.6, 0.3, 0.1),
                                                     vec3(1.0 / 3, 1.0 / 3, 1.0 / 3)});
  const std::vector<token> prompt{2};
  for (int gamma : {1, 2, 3}) {
    // Four tokens span two steps whenever a step emits fewer, so chaining is checked too.
    const std::size_t length = 4;
    enumerator<rejection_sampling> e{draft, target, gamma, prompt.size(), length, {}};
    e.emit(prompt, 1.0);
    const dist_map want = target_joint(target, prompt, length);
    REQUIRE(want.size() == 81);
    double total = 0.0;
    for (const auto& [k, v] : e.out)
      total += v;
    CHECK(total == Approx(1.0).margin(1e-12));
    const double err = max_abs_diff(e.out, want);
    INFO("gamma " << gamma << " max |P_spec − P_target| = " << err);
    REQUIRE(std::isfinite(err));
    CHECK(err < 1e-14);

    // The same enumeration of the common mistake (resample from p on rejection) is biased.
    enumerator<resample_from_target> bad{draft, target, gamma, prompt.size(), length, {}};
    bad.emit(prompt, 1.0);
    CHECK(max_abs_diff(bad.out, want) > 1e-3);
  }
}

TEST_CASE("rejection sampling at V = 1000 passes a chi-square test over 100k samples",
          "[speculative][verify]") {
  // Seeds printed for reproduction: target 21, draft 22, sampling 2024.
  const ngram_model target(ngram_config{.vocab = 1000, .order = 1, .states = 32, .seed = 21});
  const ngram_model draft = make_draft(target, draft_config{.alpha = 0.6, .seed = 22});
  const std::size_t positions = 3;
  const std::vector<token> prompt{5};
  const std::vector<Eigen::VectorXd> want = order1_marginals(target, prompt.back(), positions);
  const std::int64_t n = 100000;
  // α = 1e-4 per test: z = 3.719.
  const double z = 3.719;

  auto run = [&](auto policy_tag) {
    using policy = decltype(policy_tag);
    basic_decoder<h800_sxm, ngram_model, ngram_model, policy> dec(draft, target, {.gamma = 2});
    rng g(2024);
    std::vector<std::vector<std::int64_t>> counts(positions, std::vector<std::int64_t>(1000, 0));
    std::vector<token> seq;
    for (std::int64_t s = 0; s < n; ++s) {
      seq = prompt;
      while (seq.size() < prompt.size() + positions)
        dec.step(seq, g);
      for (std::size_t k = 0; k < positions; ++k)
        ++counts[k][static_cast<std::size_t>(seq[prompt.size() + k])];
    }
    return counts;
  };

  const auto counts = run(rejection_sampling{});
  for (std::size_t k = 0; k < positions; ++k) {
    const auto [stat, df] = pearson(counts[k], want[k], static_cast<double>(n));
    const double crit = chi_square_critical(df, z);
    INFO("position " << k + 1 << ": chi2 = " << stat << " on " << df << " df, critical " << crit);
    REQUIRE(std::isfinite(stat));
    CHECK(df > 100);
    CHECK(stat < crit);
  }
  // The biased variant fails the same test at every position after the first rejection point.
  const auto biased = run(resample_from_target{});
  const auto [stat, df] = pearson(biased[0], want[0], static_cast<double>(n));
  INFO("biased: chi2 = " << stat << " on " << df << " df");
  CHECK(stat > chi_square_critical(df, z));
}

TEST_CASE("vectorised verification equals the scalar reference loop at V = 32k",
          "[speculative][verify]") {
  const ngram_model target(ngram_config{.vocab = 32000, .order = 1, .states = 8, .seed = 31});
  const ngram_model draft = make_draft(target, draft_config{.alpha = 0.7, .seed = 32});
  const int gamma = 4;
  rng g(33);
  std::vector<Eigen::VectorXd> p, q;
  std::vector<token> d;
  Eigen::VectorXd scratch;
  std::vector<double> scalar_scratch;
  int rejected = 0, bonus = 0;
  for (int trial = 0; trial < 100; ++trial) {
    p.clear();
    q.clear();
    d.clear();
    std::vector<token> seq{static_cast<token>(g.uniform_int(32000))};
    for (int i = 0; i < gamma; ++i) {
      q.push_back(draft.next_distribution(seq));
      d.push_back(rejection_sampling::propose(q.back(), g));
      p.push_back(target.next_distribution(seq));
      seq.push_back(d.back());
    }
    p.push_back(target.next_distribution(seq));
    rng a(1000 + static_cast<std::uint64_t>(trial)), b(1000 + static_cast<std::uint64_t>(trial));
    const verify_result rv = rejection_sampling::verify(p, q, d, a, scratch);
    const verify_result rs = verify_rejection_scalar(p, q, d, b, scalar_scratch);
    CHECK(rv.accepted == rs.accepted);
    CHECK(rv.next == rs.next);
    rejected += rv.accepted < gamma;
    bonus += rv.accepted == gamma;
  }
  // Both branches (residual and bonus) were exercised.
  CHECK(rejected > 10);
  CHECK(bonus > 10);
}

TEST_CASE("greedy verification reproduces the target's greedy decoding", "[speculative][verify]") {
  const ngram_model target(ngram_config{.vocab = 200, .order = 2, .states = 64, .seed = 41});
  const ngram_model draft = make_draft(target, draft_config{.alpha = 0.8, .seed = 42});
  basic_decoder<ascend_910b, ngram_model, ngram_model, greedy> dec(draft, target, {.gamma = 3});
  rng g(43);
  std::vector<token> seq{1, 2};
  dec.run(seq, 100, g);
  std::vector<token> ref{1, 2};
  while (ref.size() < seq.size()) {
    Eigen::Index i = 0;
    target.next_distribution(ref).maxCoeff(&i);
    ref.push_back(static_cast<token>(i));
  }
  CHECK(seq == ref);
  CHECK(dec.stats().accepted > 0);
  CHECK(dec.stats().emitted == dec.stats().accepted + dec.stats().steps);
}

TEST_CASE("sampling from unnormalised weights never picks a zero weight", "[speculative][verify]") {
  Eigen::VectorXd w = Eigen::VectorXd::Zero(300);
  w[0] = 0.0;
  w[130] = 2.0;
  w[299] = 1.0;
  rng g(7);
  int c130 = 0;
  for (int i = 0; i < 3000; ++i) {
    const token t = sample_unnormalised(w, g);
    REQUIRE((t == 130 || t == 299));
    c130 += t == 130;
  }
  // Binomial(3000, 2/3): mean 2000, sd 25.8; 5 sd either way.
  CHECK(std::abs(c130 - 2000) < 130);
}
