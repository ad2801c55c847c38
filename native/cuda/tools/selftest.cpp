// GPU self-test: every loss kind and label format against the CPU kernels (the same
// row_math.h) and a float64 reference, over shapes from 1×1 to 8 × 2^24, with outputs
// poisoned with NaN beforehand (every element must be written), NaN and −∞ rows, and label
// checks. Exit status: the number of failed cases. `--small` skips the largest shapes (for
// compute-sanitizer, which runs ~100× slower).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common.h"
#include "fused_loss.h"

using namespace mixloss;

namespace {

int failures = 0;

void report(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

double reference_ce(const float* q, int64_t C, int64_t y) {
  double m = -INFINITY;
  for (int64_t j = 0; j < C; ++j) m = std::fmax(m, q[j]);
  double s = 0;
  for (int64_t j = 0; j < C; ++j) s += std::exp(static_cast<double>(q[j]) - m);
  return m + std::log(s) - q[y];
}

struct Case {
  int64_t rows, classes;
  bool dense;
  LossParams params;
  const char* name;
};

void run(const Case& c) {
  const int64_t B = c.rows, C = c.classes, n = B * C;
  std::vector<float> q = tools::logits(n, static_cast<uint32_t>(B * 131 + C));
  if (C > 100) {
    q[5] = -INFINITY;                                       // a masked class
    if (B > 1) q[static_cast<size_t>(C + 17)] = NAN;        // a NaN row (row 1)
  }
  std::vector<int32_t> ids = tools::labels(B, C, static_cast<uint32_t>(C * 7 + 3));
  std::vector<float> targets;
  if (c.dense) {
    targets.assign(static_cast<size_t>(n), 0.0f);
    for (int64_t r = 0; r < B; ++r) {  // label smoothing 0.1 around the class id
      for (int64_t j = 0; j < C; ++j) targets[r * C + j] = 0.1f / C;
      targets[r * C + ids[r]] += 0.9f;
    }
  }
  // CPU
  std::vector<float> st(B * kStatsPerRow), rl(B), g(static_cast<size_t>(n));
  const Labels host_labels = c.dense ? Labels{LabelFormat::kDenseFloat32, targets.data()} : Labels{LabelFormat::kSparseInt32, ids.data()};
  const float one = 1.0f;
  loss_forward(q.data(), B, C, host_labels, c.params, st.data(), rl.data());
  loss_backward(q.data(), B, C, host_labels, c.params, st.data(), &one, 1, 1.0 / B, g.data());
  // GPU, outputs poisoned with NaN
  tools::Device dq(q), dst(std::vector<float>(B * kStatsPerRow, NAN)), drl(std::vector<float>(B, NAN));
  tools::Device dg(std::vector<float>(static_cast<size_t>(n), NAN)), ddy(std::vector<float>{1.0f});
  tools::Device dlab = c.dense ? tools::Device(targets) : tools::Device(ids);
  const Labels dev_labels{host_labels.format, dlab.ptr};
  report(cuda::find_bad_label(dev_labels, B, C) == -1, std::string(c.name) + ": labels accepted");
  cuda::loss_forward(dq.as<float>(), B, C, dev_labels, c.params, dst.as<float>(), drl.as<float>());
  cuda::loss_backward(dq.as<float>(), B, C, dev_labels, c.params, dst.as<float>(), ddy.as<float>(), 1, 1.0 / B, dg.as<float>());
  const std::vector<float> grl = drl.download<float>(), gg = dg.download<float>();

  bool losses_ok = true, grads_ok = true, written = true;
  for (int64_t r = 0; r < B; ++r) {
    const bool nan_row = std::isnan(rl[r]);
    if (nan_row != std::isnan(grl[r])) losses_ok = false;
    if (!nan_row && !(std::fabs(grl[r] - rl[r]) <= 2e-5 * std::fmax(1.0, std::fabs(rl[r])))) losses_ok = false;
    float scale = 0;
    for (int64_t j = 0; j < C; ++j) if (std::isfinite(g[r * C + j])) scale = std::fmax(scale, std::fabs(g[r * C + j]));
    for (int64_t j = 0; j < C; ++j) {
      const float a = gg[r * C + j], b = g[r * C + j];
      if (std::isnan(b)) { if (!std::isnan(a)) grads_ok = false; continue; }
      if (std::isnan(a)) written = false;
      else if (!(std::fabs(a - b) <= 1e-5f * scale + 1e-12f)) grads_ok = false;
    }
  }
  report(losses_ok, std::string(c.name) + ": row losses match the CPU (NaN rows stay NaN)");
  report(grads_ok, std::string(c.name) + ": gradient matches the CPU");
  report(written, std::string(c.name) + ": every gradient element written");
  if (!c.dense && c.params.kind == LossKind::kMixed && c.params.beta == 0.0f) {
    const double ref = reference_ce(q.data(), C, ids[0]);
    report(std::fabs(grl[0] - ref) <= 1e-5 * std::fmax(1.0, ref), std::string(c.name) + ": row 0 against float64");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool small = argc > 1 && std::strcmp(argv[1], "--small") == 0;
  const cuda::DeviceStatus status = cuda::device_status();
  if (!status.available) {
    std::printf("SKIP no CUDA device: %s\n", status.error.c_str());
    return 0;
  }
  std::printf("device: %s (sm_%d, %.0f GiB)\n", status.name.c_str(), status.compute_capability, status.memory_gib);
  std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1}, {3, 7}, {64, 1000}, {257, 4099}, {16, 65536}};
  if (!small) shapes.insert(shapes.end(), {{4096, 32000}, {2, 1 << 20}, {8, 1 << 24}});
  const LossParams ce{LossKind::kMixed, 1, 0, 0}, mixed{LossKind::kMixed, 1, 2.5f, 0}, el{LossKind::kMixed, 0, 1, 0};
  const LossParams focal{LossKind::kFocal, 0, 0, 2}, gce{LossKind::kGeneralizedCE, 0, 0, 0.7f}, tamed{LossKind::kTamedCE, 0, 0, 0.5f};
  for (auto [B, C] : shapes) {
    const std::string shape = std::to_string(B) + "x" + std::to_string(C);
    const std::vector<std::pair<LossParams, std::string>> kinds = {{ce, "CE"}, {mixed, "mixed"}, {el, "EL"}, {focal, "focal"}, {gce, "GCE"}, {tamed, "tamed"}};
    for (const auto& [p, name] : kinds) {
      const std::string label = shape + " " + name;
      run({B, C, false, p, label.c_str()});
    }
    for (const auto& [p, name] : std::vector<std::pair<LossParams, std::string>>{{ce, "CE"}, {mixed, "mixed"}}) {
      const std::string label = shape + " dense " + name;
      run({B, C, true, p, label.c_str()});
    }
  }
  // Out-of-range labels are found before any kernel runs.
  {
    tools::Device bad(std::vector<int32_t>{0, 3});
    report(cuda::find_bad_label({LabelFormat::kSparseInt32, bad.ptr}, 2, 3) == 1, "label 3 of 3 classes rejected at row 1");
  }
  std::printf("%d failed\n", failures);
  return failures;
}
