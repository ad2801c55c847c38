// N-API bindings of the CUDA kernels (cuda_bindings.cc, compiled only with CUDA); without
// CUDA, cudaStatus() reports that the addon was built without it.
#pragma once

#include <napi.h>

namespace mixloss {

#ifdef MIXLOSS_WITH_CUDA
bool cuda_compiled();
void register_cuda(Napi::Env env, Napi::Object exports);
#else
inline bool cuda_compiled() { return false; }
inline void register_cuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaStatus", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                Napi::Object o = Napi::Object::New(info.Env());
                o.Set("compiled", false);
                o.Set("available", false);
                o.Set("deviceCount", 0);
                o.Set(
                    "error",
                    "this build of the addon has no CUDA kernels (the prebuilt addon is CPU-only; a source build leaves them out when nvcc "
                    "is not found or MIXLOSS_CUDA=OFF). To build them: MIXLOSS_BUILD_FROM_SOURCE=1 MIXLOSS_CUDA=ON npm rebuild mixloss");
                return o;
              }));
}
#endif

}  // namespace mixloss
