#include <infercost/all.hpp>

double odr_b() { return infercost::ascend_910b{}.peak_flops(infercost::precision::bf16); }
