// MIXLOSS_HD: functions the CPU and the CUDA kernels share (host and device under nvcc).
#pragma once

#if defined(__CUDACC__)
#define MIXLOSS_HD __host__ __device__ __forceinline__
#else
#define MIXLOSS_HD inline
#endif
