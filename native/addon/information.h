// The information measures' bindings (information.cc), added to the addon's exports.
#pragma once

#include <napi.h>

namespace mixloss {
void register_information(Napi::Env env, Napi::Object exports);
}
