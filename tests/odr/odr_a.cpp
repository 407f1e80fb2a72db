// Header-only mode: this translation unit and odr_b.cpp both include every header and
// instantiate the heavy templates the compiled mode holds once (the simulation on any_device, a
// forward pass), so a missing `inline` or a mismatched instantiation fails this link.
#include <infercost/all.hpp>

#include "odr_common.hpp"

double odr_a() { return infercost::odr::exercise(1); }
