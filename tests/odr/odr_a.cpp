// Header-only mode: this translation unit and odr_b.cpp both include every header and call its
// non-template functions, so a missing `inline` fails this link.
#include <infercost/all.hpp>

#include "odr_common.hpp"

double odr_a() { return infercost::odr::exercise(); }
