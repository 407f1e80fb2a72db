/// @file
/// The Hugging Face config.json reader (see model/hf_config.hpp, which includes this file in
/// header-only mode; the compiled library compiles it once).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "infercost/core/error.hpp"
#include "infercost/core/macros.hpp"
#include "infercost/model/hf_config.hpp"
#include "infercost/model/model_config.hpp"

namespace infercost::model {

namespace detail {

/// Reads keys of one config object; every error names the source and the key.
class hf_reader {
public:
  hf_reader(const nlohmann::json& j, std::string component)
      : j_(j), component_(std::move(component)) {}

  [[nodiscard]] const std::string& component() const noexcept { return component_; }

  /// True when `key` is present and not null.
  [[nodiscard]] bool has(std::string_view key) const {
    const auto it = j_.find(key);
    return it != j_.end() && !it->is_null();
  }

  /// The integer at `key`. @throws config_error when absent, null or not an integer.
  [[nodiscard]] int get_int(std::string_view key) const {
    if (!has(key))
      throw config_error(component_, key, "(missing) is a required key");
    return as_int(key, j_.at(key));
  }
  /// The integer at `key`, or `fallback` when absent or null.
  [[nodiscard]] int get_int(std::string_view key, int fallback) const {
    return has(key) ? as_int(key, j_.at(key)) : fallback;
  }
  /// The number at `key`, or `fallback` when absent or null.
  [[nodiscard]] double get_double(std::string_view key, double fallback) const {
    if (!has(key))
      return fallback;
    const auto& v = j_.at(key);
    if (!v.is_number())
      throw config_error(component_, key, fmt::format("({}) must be a number", v.dump()));
    return v.get<double>();
  }
  /// The boolean at `key`, or `fallback` when absent or null.
  [[nodiscard]] bool get_bool(std::string_view key, bool fallback) const {
    if (!has(key))
      return fallback;
    const auto& v = j_.at(key);
    if (!v.is_boolean())
      throw config_error(component_, key, fmt::format("({}) must be true or false", v.dump()));
    return v.get<bool>();
  }
  /// The string at `key`, or `fallback` when absent or null.
  [[nodiscard]] std::string get_string(std::string_view key, std::string_view fallback) const {
    if (!has(key))
      return std::string(fallback);
    const auto& v = j_.at(key);
    if (!v.is_string())
      throw config_error(component_, key, fmt::format("({}) must be a string", v.dump()));
    return v.get<std::string>();
  }
  /// The first of `keys` present, as an integer; `fallback` when none is.
  [[nodiscard]] int first_int(std::initializer_list<std::string_view> keys, int fallback) const {
    for (auto k : keys)
      if (has(k))
        return get_int(k);
    return fallback;
  }
  /// The array at `key` (empty when absent or null). @throws config_error if not an array.
  [[nodiscard]] const nlohmann::json& get_array(std::string_view key) const {
    static const nlohmann::json empty = nlohmann::json::array();
    if (!has(key))
      return empty;
    const auto& v = j_.at(key);
    if (!v.is_array())
      throw config_error(component_, key, fmt::format("({}) must be an array", v.dump()));
    return v;
  }
  [[nodiscard]] int as_int(std::string_view key, const nlohmann::json& v) const {
    if (v.is_number_integer())
      return checked_int(key, v.get<long long>());
    // Some configs write integers as 4096.0.
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::isfinite(d) && d == std::floor(d))
        return checked_int(key, static_cast<long long>(d));
    }
    throw config_error(component_, key, fmt::format("({}) must be an integer", v.dump()));
  }

private:
  [[nodiscard]] int checked_int(std::string_view key, long long x) const {
    if (x < -2147483647LL || x > 2147483647LL)
      throw config_error(component_, key, fmt::format("({}) is out of range", x));
    return static_cast<int>(x);
  }

  const nlohmann::json& j_;
  std::string component_;
};

/// The 1-based line and column of byte `offset` (1-based, as nlohmann reports it) of `text`.
[[nodiscard]] inline std::pair<std::size_t, std::size_t> line_column(std::string_view text,
                                                                     std::size_t offset) {
  std::size_t line = 1, column = 1;
  const std::size_t end = std::min(offset > 0 ? offset - 1 : 0, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

/// Sliding-window layout: the window and how many layers attend over everything.
inline void read_sliding_window(const hf_reader& r, model_config& m) {
  const auto& c = r.component();
  const auto& types = r.get_array("layer_types");
  if (!types.empty()) {
    if (types.size() != static_cast<std::size_t>(m.num_layers))
      throw config_error(
          c, "layer_types",
          fmt::format("has {} entries; num_hidden_layers is {}", types.size(), m.num_layers));
    int sliding = 0;
    for (const auto& t : types) {
      const std::string s = t.is_string() ? t.get<std::string>() : t.dump();
      if (s == "sliding_attention")
        ++sliding;
      else if (s != "full_attention")
        throw config_error(c, "layer_types",
                           fmt::format("('{}') is not expressible: only 'sliding_attention' and "
                                       "'full_attention' layers are supported",
                                       s));
    }
    if (sliding > 0) {
      m.sliding_window = r.get_int("sliding_window");
      m.full_attention_layers = m.num_layers - sliding;
    }
    return;
  }
  for (const auto& t : r.get_array("attn_type_list"))
    if (!t.is_number_integer() || t.get<int>() != 1)
      throw config_error(c, "attn_type_list",
                         fmt::format("({}) is not expressible: only full-attention layers (1) are "
                                     "supported, not linear attention (0)",
                                     t.dump()));
  if (!r.has("sliding_window"))
    return;
  if (r.has("sliding_window_pattern")) {
    // Gemma 3: layer i is global when (i + 1) % pattern == 0.
    const int pattern = r.get_int("sliding_window_pattern");
    check_positive(c, "sliding_window_pattern", pattern);
    m.sliding_window = r.get_int("sliding_window");
    m.full_attention_layers = m.num_layers / pattern;
    return;
  }
  if (r.has("use_sliding_window")) {
    if (!r.get_bool("use_sliding_window", false))
      return;
    // Qwen2: layers i >= max_window_layers use the window.
    m.sliding_window = r.get_int("sliding_window");
    m.full_attention_layers = std::clamp(r.get_int("max_window_layers", 0), 0, m.num_layers);
    return;
  }
  m.sliding_window = r.get_int("sliding_window");
}

/// The number of layers of an MoE model whose FFN is dense.
[[nodiscard]] inline int count_dense_layers(const hf_reader& r, int num_layers) {
  const auto& c = r.component();
  const int first_k = r.get_int("first_k_dense_replace", 0);
  const int freq = r.get_int("moe_layer_freq", 1);
  const int step = r.get_int("decoder_sparse_step", 1);
  check_non_negative(c, "first_k_dense_replace", first_k);
  check_positive(c, "moe_layer_freq", freq);
  check_positive(c, "decoder_sparse_step", step);
  std::vector<bool> dense(static_cast<std::size_t>(num_layers), false);
  for (const auto& v : r.get_array("mlp_only_layers")) {
    const int i = r.as_int("mlp_only_layers", v);
    if (i < 0 || i >= num_layers)
      throw config_error(c, "mlp_only_layers",
                         fmt::format("({}) must be a layer index in [0, {})", i, num_layers));
    dense[static_cast<std::size_t>(i)] = true;
  }
  int n = 0;
  for (int i = 0; i < num_layers; ++i) {
    // DeepSeek: MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0;
    // Qwen2-MoE: MoE when (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers.
    const bool d =
        dense[static_cast<std::size_t>(i)] || i < first_k || i % freq != 0 || (i + 1) % step != 0;
    n += d ? 1 : 0;
  }
  return n;
}

/// Maps one (text) config object onto model_config.
[[nodiscard]] inline model_config read_text_config(const hf_reader& r, std::string name,
                                                   bool tie_fallback) {
  const auto& c = r.component();
  model_config m;
  m.name = std::move(name);
  m.hidden = r.get_int("hidden_size");
  m.num_layers = r.get_int("num_hidden_layers");
  m.vocab = r.get_int("vocab_size");
  m.num_heads = r.get_int("num_attention_heads");
  m.tie_embeddings = r.get_bool("tie_word_embeddings", tie_fallback);
  check_positive(c, "hidden_size", m.hidden);
  check_positive(c, "num_hidden_layers", m.num_layers);
  check_positive(c, "num_attention_heads", m.num_heads);

  // Attention.
  m.num_kv_heads = r.get_int("num_key_value_heads", m.num_heads);
  if (r.has("kv_lora_rank")) {
    m.attention = attention_kind::mla;
    m.q_lora_rank = r.get_int("q_lora_rank", 0);
    m.kv_lora_rank = r.get_int("kv_lora_rank");
    m.qk_nope_head_dim = r.get_int("qk_nope_head_dim");
    m.qk_rope_head_dim = r.get_int("qk_rope_head_dim");
    m.v_head_dim = r.get_int("v_head_dim");
  } else {
    m.attention = attention_kind::gqa;
    if (r.has("head_dim")) {
      m.head_dim = r.get_int("head_dim");
    } else {
      if (m.hidden % m.num_heads != 0)
        throw config_error(c, "head_dim",
                           fmt::format("(missing) and hidden_size ({}) is not a multiple of "
                                       "num_attention_heads ({})",
                                       m.hidden, m.num_heads));
      m.head_dim = m.hidden / m.num_heads;
    }
  }
  m.index_heads = r.get_int("index_n_heads", 0);
  m.index_head_dim = m.index_heads > 0 ? r.get_int("index_head_dim") : 0;
  m.index_topk = m.index_heads > 0 ? r.get_int("index_topk") : 0;
  read_sliding_window(r, m);

  // Feed-forward and experts.
  m.ffn = ffn_kind::swiglu;
  m.num_experts = r.first_int({"n_routed_experts", "num_experts", "num_local_experts"}, 0);
  if (m.num_experts > 0) {
    m.top_k = r.first_int({"num_experts_per_tok", "experts_per_token"}, 0);
    if (m.top_k == 0)
      throw config_error(c, "num_experts_per_tok", "(missing) is required for an MoE model");
    if (r.has("moe_intermediate_size")) {
      m.moe_intermediate = r.get_int("moe_intermediate_size");
      m.intermediate = r.get_int("intermediate_size", 0);
    } else {
      m.moe_intermediate = r.get_int("intermediate_size");
    }
    check_positive(c, "moe_intermediate_size", m.moe_intermediate);
    m.num_shared_experts = r.get_int("n_shared_experts", 0);
    const int shared_width =
        r.first_int({"shared_expert_intermediate_size", "shared_intermediate_size"}, 0);
    if (shared_width > 0) {
      if (shared_width % m.moe_intermediate != 0)
        throw config_error(c, "shared_expert_intermediate_size",
                           fmt::format("({}) is not expressible: it must be a multiple of "
                                       "moe_intermediate_size ({})",
                                       shared_width, m.moe_intermediate));
      m.num_shared_experts = shared_width / m.moe_intermediate;
    }
    m.n_group = r.get_int("n_group", 1);
    m.topk_group = r.get_int("topk_group", 1);
    m.first_k_dense = count_dense_layers(r, m.num_layers);
    if (m.first_k_dense > 0 && m.intermediate == 0)
      m.intermediate = r.get_int("intermediate_size");
    const std::string scoring = r.get_string("scoring_func", "softmax");
    if (scoring == "sigmoid")
      m.scoring = router_scoring::sigmoid;
    else if (scoring == "softmax")
      m.scoring = router_scoring::softmax;
    else
      throw config_error(c, "scoring_func",
                         fmt::format("('{}') must be 'softmax' or 'sigmoid'", scoring));
    m.routed_scaling_factor = r.get_double("routed_scaling_factor", 1.0);
    m.norm_topk_prob = r.get_bool("norm_topk_prob", true);
  } else {
    m.intermediate = r.get_int("intermediate_size");
  }

  // Multi-token prediction.
  if (r.has("num_nextn_predict_layers"))
    m.mtp_layers = r.get_int("num_nextn_predict_layers");
  else if (r.has("mtp_num_hidden_layers"))
    m.mtp_layers = r.get_int("mtp_num_hidden_layers");
  else if (r.get_bool("use_mtp", false))
    m.mtp_layers = r.get_int("num_mtp_modules", 0);
  return m;
}

} // namespace detail

INFERCOST_FUNC model_config from_hf_config_json(std::string_view text,
                                                std::string_view source_name) {
  const std::string component = fmt::format("model::hf_config({})", source_name);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, column] = detail::line_column(text, e.byte);
    throw config_error(
        component, "json",
        fmt::format("is malformed at line {}, column {}: {}", line, column, e.what()));
  }
  if (!j.is_object())
    throw config_error(component, "json", "must be one JSON object");
  bool tie = false;
  if (j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean())
    tie = j["tie_word_embeddings"].get<bool>();
  model_config m;
  if (j.contains("text_config") && j["text_config"].is_object()) {
    const detail::hf_reader r(j["text_config"], component + ".text_config");
    m = detail::read_text_config(r, std::string(source_name), tie);
  } else {
    const detail::hf_reader r(j, component);
    m = detail::read_text_config(r, std::string(source_name), false);
  }
  try {
    m.validate();
  } catch (const config_error& e) {
    throw config_error(component, e.field(), fmt::format("is inconsistent: {}", e.what()));
  }
  return m;
}

INFERCOST_FUNC model_config from_hf_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw config_error(fmt::format("model::hf_config({})", file.string()), "file",
                       "cannot be opened");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = std::move(buf).str();
  model_config m = from_hf_config_json(text, file.string());
  const std::filesystem::path dir = file.parent_path().filename();
  m.name = file.filename() == "config.json" && !dir.empty() ? dir.string() : file.stem().string();
  return m;
}

} // namespace infercost::model
