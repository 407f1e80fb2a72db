#include <infercost/all.hpp>

#include "odr_common.hpp"

double odr_b() { return infercost::odr::exercise(); }
