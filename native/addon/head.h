// The fused classifier head's bindings (head.cc), added to the addon's exports.
#pragma once

#include <napi.h>

namespace mixloss {
void register_head(Napi::Env env, Napi::Object exports);
}
