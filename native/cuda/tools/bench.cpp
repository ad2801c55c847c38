// GPU benchmark of the fused loss: forward, backward and both, against a device-to-device
// copy of the logits measured in the same run; then the fused head's training step (forward and
// backward for hidden, kernel and bias), with its effective TFLOP/s (6·N·D·C over the step's
// time; the head computes 10·N·D·C). One JSON object per line on stdout.
//
// Bytes moved: forward reads the logits once; backward reads them once and writes the
// gradient; so forward + backward moves 3·B·C·4 bytes, and a copy moves 2·B·C·4.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <tuple>
#include <vector>

#include "common.h"
#include "cuda_head.h"
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
  // The fused head: CE of hidden · kernel + bias.
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> heads = {
      {256, 256, 32768}, {1024, 256, 131072}, {4096, 4096, 128256}, {64, 512, 1 << 20}};
  LossParams ce;
  ce.kind = LossKind::kMixed;
  ce.alpha = 1;
  ce.beta = 0;
  for (auto [N, D, C] : heads) {
    std::vector<float> hv = tools::logits(N * D, 3), wv = tools::logits(D * C, 5), bv = tools::logits(C, 6);
    for (auto& v : wv) v *= 0.01f;
    tools::Device h(hv), w(wv), b(bv), y(tools::labels(N, C, 9)), dy(std::vector<float>{1.0f});
    tools::Device stats(static_cast<size_t>(N) * kStatsPerRow * 4), rl(static_cast<size_t>(N) * 4);
    tools::Device gh(static_cast<size_t>(N * D) * 4), gk(static_cast<size_t>(D * C) * 4), gb(static_cast<size_t>(C) * 4);
    const head::HeadCall call{h.as<float>(), w.as<float>(), b.as<float>(), N, D, C, 0, C, {LabelFormat::kSparseInt32, y.ptr}, ce,
                              nullptr,       nullptr};
    const int reps = 10;
    const double fwd = median_ms([&] { cuda::head_forward(call, stats.as<float>(), rl.as<float>()); }, reps);
    const double step = median_ms(
        [&] {
          cuda::head_forward(call, stats.as<float>(), rl.as<float>());
          cuda::head_backward(call, stats.as<float>(), dy.as<float>(), 1, 1.0 / N, gh.as<float>(), gk.as<float>(), gb.as<float>());
        },
        reps);
    std::printf(
        "{\"gpu\":\"%s\",\"head\":true,\"N\":%lld,\"D\":%lld,\"C\":%lld,\"forward_ms\":%.4f,\"step_ms\":%.4f,\"effective_TFLOPs\":%.2f}\n",
        status.name.c_str(), static_cast<long long>(N), static_cast<long long>(D), static_cast<long long>(C), fwd, step,
        6.0 * N * D * C / step / 1e9);
    std::fflush(stdout);
  }
  return 0;
}
