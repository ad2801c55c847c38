// The head's tile products with AVX-512 (CMakeLists.txt sets the flags on this file only),
// Eigen's namespace renamed: gemm.cpp picks them on CPUs with AVX-512F, DQ and FMA.
#define MIXLOSS_HEAD_ISA avx512
#define Eigen EigenHeadAvx512
#include "gemm_impl.h"
