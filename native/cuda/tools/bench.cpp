// GPU benchmark of the fused loss: forward, backward and both, against a device-to-device
// copy of the logits measured in the same run. One JSON object per line on stdout.
//
// Bytes moved: forward reads the logits once; backward reads them once and writes the
// gradient; so forward + backward moves 3·B·C·4 bytes, and a copy moves 2·B·C·4.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "common.h"
#include "losses/registry.h"

using namespace mixloss;

namespace {

double median_ms(const std::function<void()>& fn, int reps) {
  fn();
  cuda::synchronize();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    cuda::synchronize();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main() {
  const cuda::DeviceStatus status = cuda::device_status();
  if (!status.available) {
    std::fprintf(stderr, "no CUDA device: %s\n", status.error.c_str());
    return 1;
  }
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{4096, 32000}, {8192, 128256}, {64, 1000000}, {8, 1 << 24}};
  LossParams mixed;
  mixed.kind = LossKind::kMixed;
  mixed.alpha = 1;
  mixed.beta = 1;
  for (auto [B, C] : shapes) {
    const int64_t n = B * C;
    const double bytes = static_cast<double>(n) * 4;
    tools::Device q(tools::logits(n, 7)), y(tools::labels(B, C, 9)), grad(static_cast<size_t>(n) * 4), copy(static_cast<size_t>(n) * 4);
    tools::Device stats(static_cast<size_t>(B) * kStatsPerRow * 4), rl(static_cast<size_t>(B) * 4), dy(std::vector<float>{1.0f});
    const LossCall call{q.as<float>(), B, C, {LabelFormat::kSparseInt32, y.ptr}, mixed, nullptr, stats.as<float>()};
    const int reps = 20;
    const double fwd = median_ms([&] { cuda::forward(call, rl.as<float>()); }, reps);
    const double bwd = median_ms([&] { cuda::backward(call, dy.as<float>(), 1, 1.0 / B, grad.as<float>()); }, reps);
    const double both = median_ms(
        [&] {
          cuda::forward(call, rl.as<float>());
          cuda::backward(call, dy.as<float>(), 1, 1.0 / B, grad.as<float>());
        },
        reps);
    const double cp = median_ms([&] { cuda::copy_device_to_device(copy.ptr, q.ptr, static_cast<size_t>(bytes)); }, reps);
    const double copy_gbs = 2 * bytes / cp / 1e6, ours_gbs = 3 * bytes / both / 1e6;
    std::printf(
        "{\"gpu\":\"%s\",\"B\":%lld,\"C\":%lld,\"forward_ms\":%.4f,\"backward_ms\":%.4f,\"fwd_bwd_ms\":%.4f,"
        "\"copy_ms\":%.4f,\"copy_GBs\":%.1f,\"fwd_bwd_GBs\":%.1f,\"fraction_of_copy\":%.3f}\n",
        status.name.c_str(), static_cast<long long>(B), static_cast<long long>(C), fwd, bwd, both, cp, copy_gbs, ours_gbs,
        ours_gbs / copy_gbs);
    std::fflush(stdout);
  }
  return 0;
}
