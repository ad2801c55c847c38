// The fuzz targets' reader of libFuzzer's bytes: past the end, every read is 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mixloss {
namespace fuzz {

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t byte() { return n ? (--n, *p++) : 0; }
  uint32_t u16() { return byte() | (uint32_t{byte()} << 8); }
  // In [0, 1], 65536 steps.
  double unit() { return u16() / 65535.0; }
};

}  // namespace fuzz
}  // namespace mixloss
