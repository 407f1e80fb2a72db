#include <infercost/all.hpp>

double odr_a() { return infercost::h100_sxm{}.peak_flops(infercost::precision::bf16); }
