/// @file
/// Declarations of every public class template, with its default template arguments. Include
/// this instead of the full headers where only names are needed.
#pragma once

namespace infercost {

// device/
struct cuda_spec;
struct ascend_spec;
template <class Spec> class cuda_gpu;
template <class Spec> class ascend_npu;

// moe/

// attention/

// speculative/

// kvcache/

// engine/

// serving/

// econ/

} // namespace infercost
