/// @file
/// Umbrella header of the numeric faces, which run on real tensors with Eigen: attention forward
/// passes (full, sliding window, top-k sparse, CSA) and synthetic Q/K/V, the MoE router and the
/// grouped expert layer, and exact speculative sampling with toy language models. Their
/// functions are templates, instantiated only where a program calls them.
#pragma once

#include "infercost/infercost.hpp"

// attention/
#include "infercost/attention/forward.hpp"
#include "infercost/attention/synthetic.hpp"

// moe/
#include "infercost/moe/layer.hpp"
#include "infercost/moe/router.hpp"

// speculative/
#include "infercost/speculative/decoder.hpp"
#include "infercost/speculative/language_model.hpp"
#include "infercost/speculative/verify.hpp"
