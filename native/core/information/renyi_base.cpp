// The information measures compiled for the baseline x86-64 instruction set (and every other
// architecture): renyi_impl.h in namespace base.
#define MIXLOSS_INFO_ISA base
#include "renyi_impl.h"
