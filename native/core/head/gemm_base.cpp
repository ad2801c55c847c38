// The head's tile products for the baseline instruction set (and every other architecture).
#define MIXLOSS_HEAD_ISA base
#include "gemm_impl.h"
