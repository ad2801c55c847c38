// The information measures compiled with -mavx2 -mfma (CMakeLists.txt sets the flags on this
// file only): renyi_impl.h in namespace avx2, with Eigen's namespace renamed so that none of its
// template instantiations is shared with the baseline build. renyi.cpp picks this one at run time
// on CPUs with AVX2 and FMA.
#define MIXLOSS_INFO_ISA avx2
#define Eigen EigenAvx2
#include "renyi_impl.h"
