// A plain three-pass memory loop over a [rows, classes] array (read for a max, read for a
// sum, read + write), threaded like the kernels but with no exp: the bandwidth bound the
// benchmark compares the fused loss + gradient against.
#pragma once

#include <cstdint>

namespace mixloss {

void three_pass_memory_loop(const float* x, int64_t rows, int64_t classes, float* out);

}  // namespace mixloss
