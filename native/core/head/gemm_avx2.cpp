// The head's tile products with -mavx2 -mfma (CMakeLists.txt sets the flags on this file only),
// Eigen's namespace renamed: gemm.cpp picks them on CPUs with AVX2 and FMA.
#define MIXLOSS_HEAD_ISA avx2
#define Eigen EigenHeadAvx2
#include "gemm_impl.h"
