// Linked only when the C++ runtime is linked statically (CMakeLists.txt,
// MIXLOSS_STATIC_CXX_RUNTIME). GCC 12's libstdc++.a references arc4random (glibc 2.36) from
// std::random_device, which std::runtime_error's object file pulls in; mixloss never uses
// std::random_device, but the reference alone would raise the addon's glibc requirement from
// 2.34 to 2.36. `-Wl,--wrap=arc4random` sends the reference here instead: getrandom(2)
// (glibc 2.25), aborting on failure as glibc's own arc4random does.
#include <sys/random.h>
#include <cerrno>
#include <cstdlib>

extern "C" unsigned int __wrap_arc4random(void) {
  unsigned int value = 0;
  unsigned char* out = reinterpret_cast<unsigned char*>(&value);
  size_t filled = 0;
  while (filled < sizeof value) {
    const ssize_t n = getrandom(out + filled, sizeof value - filled, 0);
    if (n > 0) {
      filled += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      std::abort();
    }
  }
  return value;
}
