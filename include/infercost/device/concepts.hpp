/// @file
/// The concept every device cost model satisfies (defined in infercost/concepts.hpp with the
/// others), with the types it names. It is the template parameter of every component: routers,
/// attention, speculative decoders, caches and the step-cost engine take a `Device` and ask it
/// how long work takes.
#pragma once

#include "infercost/concepts.hpp"
#include "infercost/device/efficiency.hpp"
#include "infercost/device/work.hpp"
