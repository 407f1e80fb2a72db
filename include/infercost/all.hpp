/// @file
/// Every public infercost header: the cost model and simulation (infercost.hpp), the numeric
/// faces (numeric.hpp), the Mooncake JSON Lines reader and the JSON report writer.
#pragma once

#include "infercost/infercost.hpp"
#include "infercost/numeric.hpp"

#include "infercost/io/mooncake_trace.hpp"
#include "infercost/serving/report_json.hpp"
