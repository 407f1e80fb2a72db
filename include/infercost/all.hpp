/// @file
/// Every public infercost header: the cost model and simulation (infercost.hpp), the numeric
/// faces (numeric.hpp), the Mooncake JSON Lines reader, the JSON report writer and the Hugging Face
/// config.json loader.
#pragma once

#include "infercost/infercost.hpp"
#include "infercost/numeric.hpp"

#include "infercost/io/mooncake_trace.hpp"
#include "infercost/model/hf_config.hpp"
#include "infercost/plan/planner.hpp"
#include "infercost/serving/report_json.hpp"
