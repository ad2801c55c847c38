// GPU self-test: every loss kind and label format against the CPU kernels and, row by row,
// against an independent float64 reference, over shapes from 1×1 to 8 × 2^24, with outputs
// poisoned with NaN beforehand (every element must be written), NaN and −∞ rows, and label
// checks. Exit status: the number of failed cases. `--small` skips the largest shapes (for
// compute-sanitizer, which runs ~100× slower); `--host` needs no device: the CPU kernels take
// the GPU's place, which checks the float64 reference itself (CI runs it).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common.h"
#include "cuda_head.h"
#include "fused_loss.h"
#include "head/head.h"
#include "row_math.h"

using namespace mixloss;

namespace {

int failures = 0;
bool host_only = false;  // --host: no device; the CPU kernels stand in for the GPU

void report(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// Float64 reference of one row, written from each loss's definition (not from row_math.h, which
// the CPU and CUDA kernels share: a bug there would pass a CPU-against-GPU comparison). Sparse
// rows: ℓ(log p_y) and the chain rule ∂ log p_y/∂q_j = [j = y] − p_j. Dense rows (the mixture):
// Σ_j t_j (α(lse − q_j) + β(1 − p_j)). Returns the value; fills grad (w.r.t. the row's logits)
// and scale, the size of the terms each entry is a sum of (what float32 rounding scales with).
// A kind with no reference written here gives nullopt: its cases are compared with the CPU
// kernels only (whose float64 checks are the package's test suites).
std::optional<double> reference_row(const LossParams& P, const double* q, int64_t C, int64_t y, const float* t, std::vector<double>& grad,
                                    std::vector<double>& scale) {
  double m = -INFINITY;
  for (int64_t j = 0; j < C; ++j) m = std::fmax(m, q[j]);
  double s = 0;
  for (int64_t j = 0; j < C; ++j) s += std::exp(static_cast<double>(q[j]) - m);
  const double lse = m + std::log(s);
  grad.assign(static_cast<size_t>(C), 0.0);
  scale.assign(static_cast<size_t>(C), 0.0);
  auto p = [&](int64_t j) { return std::exp(static_cast<double>(q[j]) - lse); };
  if (t != nullptr) {
    double T = 0, pt = 0, value = 0;
    for (int64_t j = 0; j < C; ++j) {
      T += t[j];
      pt += t[j] * p(j);
      if (t[j] != 0) value += t[j] * ((P.alpha != 0 ? P.alpha * (lse - q[j]) : 0.0) + P.beta * (1 - p(j)));
    }
    for (int64_t j = 0; j < C; ++j) {
      grad[j] = p(j) * (P.alpha * T + P.beta * pt) - P.alpha * t[j] - P.beta * t[j] * p(j);
      scale[j] = std::fabs(p(j) * (P.alpha * T + P.beta * pt)) + std::fabs(t[j] * (P.alpha + P.beta * p(j)));
    }
    return value;
  }
  const double lp = static_cast<double>(q[y]) - lse, py = std::exp(lp), u = -std::expm1(lp);  // u = 1 − p_y
  double value = 0, dlp = 0;                                                                  // ℓ and dℓ/d log p_y
  switch (P.kind) {
    case LossKind::kMixed:
      value = (P.alpha != 0 ? -P.alpha * lp : 0.0) + P.beta * u;
      dlp = -P.alpha - P.beta * py;
      break;
    case LossKind::kMAE:
      value = 2 * u;
      dlp = -2 * py;
      break;
    case LossKind::kFocal: {
      const double g = P.gamma;
      value = -P.alpha * std::pow(u, g) * lp;
      dlp = P.alpha * ((g == 0 || py == 0 || u == 0 ? 0.0 : g * std::pow(u, g - 1) * py * lp) - std::pow(u, g));
      break;
    }
    case LossKind::kGeneralizedCE:
      value = -std::expm1(P.q * lp) / P.q;
      dlp = -std::exp(P.q * lp);
      break;
    case LossKind::kTamedCE: {
      const double a = P.a, v = 1 - lp;
      value = a == 1 ? std::log(v) : (std::pow(v, 1 - a) - 1) / (1 - a);
      dlp = -std::pow(v, -a);
      break;
    }
    case LossKind::kComplementEntropy: {
      // (1/C)·Σ_{j≠y} r_j log r_j, r_j = p_j/(1 − p_y); gradient (1/C)·r_j (log r_j − Σ r log r), 0 at y.
      double lse_o_sum = 0;
      for (int64_t j = 0; j < C; ++j)
        if (j != y) lse_o_sum += std::exp(static_cast<double>(q[j]) - m);
      const double lse_o = m + std::log(lse_o_sum);
      double ell = 0;
      for (int64_t j = 0; j < C; ++j)
        if (j != y && std::isfinite(q[j])) ell += std::exp(q[j] - lse_o) * (q[j] - lse_o);
      for (int64_t j = 0; j < C; ++j) {
        const double r = j == y ? 0.0 : std::exp(q[j] - lse_o);
        grad[j] = r == 0 ? 0.0 : r * ((q[j] - lse_o) - ell) / C;
        scale[j] = r == 0 ? 0.0 : r * (std::fabs(q[j] - lse_o) + std::fabs(ell)) / C;
      }
      return C == 1 ? 0.0 : ell / C;
    }
    case LossKind::kMPCE: {
      // −(p_k − p_y) log p_y, k the first argmax: ∂/∂q_j = −(∂p_k − ∂p_y) log p_y − (p_k − p_y) ∂ log p_y.
      int64_t k = 0;
      for (int64_t j = 1; j < C; ++j)
        if (q[j] > q[k]) k = j;
      const double pk = p(k);
      value = -(pk - py) * lp;
      for (int64_t j = 0; j < C; ++j) {
        const double dpk = pk * ((j == k ? 1.0 : 0.0) - p(j)), dpy = py * ((j == y ? 1.0 : 0.0) - p(j));
        grad[j] = k == y ? 0.0 : -(dpk - dpy) * lp - (pk - py) * ((j == y ? 1.0 : 0.0) - p(j));
        scale[j] = std::fabs(dpk * lp) + std::fabs(dpy * lp) + std::fabs((pk - py) * ((j == y ? 1.0 : 0.0) - p(j)));
      }
      return k == y ? 0.0 : value;
    }
    default: return std::nullopt;
  }
  for (int64_t j = 0; j < C; ++j) {
    grad[j] = dlp * ((j == y ? 1.0 : 0.0) - p(j));
    scale[j] = std::fabs(grad[j]);
  }
  return value;
}

struct Case {
  int64_t rows, classes;
  bool dense;
  LossParams params;
  const char* name;
};

// The GPU's row losses and gradient against the CPU's (NaN rows stay NaN; every element written).
void compare_with_cpu(const Case& c, const std::vector<float>& rl, const std::vector<float>& g, const std::vector<float>& grl,
                      const std::vector<float>& gg) {
  const int64_t B = c.rows, C = c.classes;
  bool losses_ok = true, grads_ok = true, written = true;
  for (int64_t r = 0; r < B; ++r) {
    const bool nan_row = std::isnan(rl[r]);
    if (nan_row != std::isnan(grl[r])) losses_ok = false;
    if (!nan_row && !(std::fabs(grl[r] - rl[r]) <= 2e-5 * std::fmax(1.0, std::fabs(rl[r])))) losses_ok = false;
    float scale = 0;
    for (int64_t j = 0; j < C; ++j)
      if (std::isfinite(g[r * C + j])) scale = std::fmax(scale, std::fabs(g[r * C + j]));
    for (int64_t j = 0; j < C; ++j) {
      const float a = gg[r * C + j], b = g[r * C + j];
      if (std::isnan(b)) {
        if (!std::isnan(a)) grads_ok = false;
        continue;
      }
      if (std::isnan(a))
        written = false;
      else if (!(std::fabs(a - b) <= 1e-5f * scale + 1e-12f))
        grads_ok = false;
    }
  }
  report(losses_ok, std::string(c.name) + ": row losses match the CPU (NaN rows stay NaN)");
  report(grads_ok, std::string(c.name) + ": gradient matches the CPU");
  report(written, std::string(c.name) + ": every gradient element written");
}

void run(const Case& c) {
  const int64_t B = c.rows, C = c.classes, n = B * C;
  std::vector<float> q = tools::logits(n, static_cast<uint32_t>(B * 131 + C));
  if (C > 100) {
    q[5] = -INFINITY;                                 // a masked class
    if (B > 1) q[static_cast<size_t>(C + 17)] = NAN;  // a NaN row (row 1)
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
  cpu::forward({q.data(), B, C, host_labels, c.params, nullptr, st.data()}, rl.data());
  cpu::backward({q.data(), B, C, host_labels, c.params, nullptr, st.data()}, &one, 1, 1.0 / B, g.data());
  // GPU, outputs poisoned with NaN. Host-only (--host, no device needed): the CPU's outputs take
  // their place, which checks the reference below (and the CPU kernels) wherever this builds.
  std::vector<float> grl = rl, gg = g;
  if (!host_only) {
    tools::Device dq(q), dst(std::vector<float>(B * kStatsPerRow, NAN)), drl(std::vector<float>(B, NAN));
    tools::Device dg(std::vector<float>(static_cast<size_t>(n), NAN)), ddy(std::vector<float>{1.0f});
    tools::Device dlab = c.dense ? tools::Device(targets) : tools::Device(ids);
    const Labels dev_labels{host_labels.format, dlab.ptr};
    const LossCall dev{dq.as<float>(), B, C, dev_labels, c.params, nullptr, dst.as<float>()};
    report(cuda::find_bad_label(dev) == -1, std::string(c.name) + ": labels accepted");
    cuda::forward(dev, drl.as<float>());
    cuda::backward(dev, ddy.as<float>(), 1, 1.0 / B, dg.as<float>());
    grl = drl.download<float>();
    gg = dg.download<float>();
    compare_with_cpu(c, rl, g, grl, gg);
  }
  // Every row against the float64 reference: the value, and each gradient entry relative to
  // itself (floor: the row's largest entry / 100·C), as the tfjs suites compare.
  // With softcap, the reference takes the capped logits cap·tanh(q/cap) in float64 (−∞ and NaN
  // kept) and multiplies its gradient by 1/cosh²(q/cap).
  const double cap = c.params.softcap;
  std::vector<double> qd(q.begin(), q.end());
  if (cap > 0)
    for (double& v : qd) v = v == -INFINITY || std::isnan(v) ? v : cap * std::tanh(v / cap);
  bool ref_values = true, ref_grads = true;
  std::vector<double> ref_grad, ref_scale;
  for (int64_t r = 0; r < B; ++r) {
    const std::optional<double> row_ref =
        reference_row(c.params, qd.data() + r * C, C, ids[r], c.dense ? targets.data() + r * C : nullptr, ref_grad, ref_scale);
    if (!row_ref) {
      std::printf("NOTE %s: no float64 reference for this kind here; compared with the CPU kernels only\n", c.name);
      return;
    }
    if (cap > 0) {
      for (int64_t j = 0; j < C; ++j) {
        const double ch = 1.0 / std::pow(std::cosh(static_cast<double>(q[r * C + j]) / cap), 2);
        ref_grad[j] *= ch;
        ref_scale[j] *= ch;
      }
    }
    const double ref = *row_ref;
    if (std::isnan(ref)) continue;  // the NaN row: checked above
    if (std::isinf(ref) ? grl[r] != ref : !(std::fabs(grl[r] - ref) <= 1e-5 * std::fmax(1.0, std::fabs(ref)))) ref_values = false;
    double row_max = 0;
    for (int64_t j = 0; j < C; ++j) row_max = std::fmax(row_max, std::fabs(ref_grad[j]));
    const double floor = row_max / (100.0 * static_cast<double>(C));
    for (int64_t j = 0; j < C; ++j) {
      const double want = ref_grad[j] / B;  // backward ran with dy_scale 1/B
      if (!(std::fabs(gg[r * C + j] - want) <= 2e-5 * (ref_scale[j] + floor) / B)) {
        if (ref_grads)
          std::printf("  first mismatch: row %lld (label %d), class %lld: %.9g, float64 %.9g\n", static_cast<long long>(r), ids[r],
                      static_cast<long long>(j), gg[r * C + j], want);
        ref_grads = false;
      }
    }
  }
  report(ref_values, std::string(c.name) + ": every row's loss against float64");
  report(ref_grads, std::string(c.name) + ": every gradient entry against float64 (relative)");
}

struct HeadCase {
  int64_t rows, dims, classes;
  LossParams params;
  bool bias, class_weights;
  std::string name;
};

// |a − b| ≤ tol·(scale + floor) for every entry; reports the first miss.
bool close_to(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& scale, double tol,
              const std::string& what) {
  double floor = 0;
  for (double v : scale) floor = std::fmax(floor, v);
  floor *= 1e-3;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= tol * (scale[i] + floor))) {
      std::printf("  first mismatch in %s: entry %zu: %.9g, float64 %.9g\n", what.c_str(), i, got[i], want[i]);
      return false;
    }
  }
  return true;
}

// The fused head: the GPU's statistics, row losses and three gradients against the CPU head's
// (--host: the CPU head stands in) and, kinds without options, against a float64 reference of
// the logits z = h·W + b computed here: reference_row on each row of z (capped with softcap), then
// dH = dZ·Wᵀ, dW = Hᵀ·dZ, db = Σ dZ.
void run_head(const HeadCase& hc) {
  const int64_t N = hc.rows, D = hc.dims, C = hc.classes;
  std::vector<float> h = tools::logits(N * D, static_cast<uint32_t>(N * 31 + D)), w = tools::logits(D * C, static_cast<uint32_t>(C + 7));
  std::vector<float> b = tools::logits(C, 11), cw(static_cast<size_t>(C));
  for (auto& v : h) v *= 0.25f;
  for (auto& v : w) v *= 0.25f;
  for (int64_t j = 0; j < C; ++j) cw[j] = 0.5f + static_cast<float>(j % 7) / 7.0f;
  std::vector<int32_t> ids = tools::labels(N, C, static_cast<uint32_t>(C * 5 + 1));
  const bool ignoring = hc.params.has_ignore_index;
  if (ignoring)
    for (int64_t r = 0; r < N; r += 3) ids[r] = hc.params.ignore_index;
  head::HeadCall call{h.data(),
                      w.data(),
                      hc.bias ? b.data() : nullptr,
                      N,
                      D,
                      C,
                      0,
                      C,
                      {LabelFormat::kSparseInt32, ids.data()},
                      hc.params,
                      hc.class_weights ? cw.data() : nullptr,
                      nullptr};
  // CPU
  std::vector<float> rec(static_cast<size_t>(N * head::kShardStats)), st(N * kStatsPerRow), rl(N);
  std::vector<float> gh(static_cast<size_t>(N * D)), gk(static_cast<size_t>(D * C)), gb(static_cast<size_t>(C));
  const float one = 1.0f;
  head::shard_statistics(call, rec.data());
  head::finish_rows(call, rec.data(), st.data(), rl.data());
  head::shard_backward(call, st.data(), &one, 1, 1.0 / N, gh.data(), gk.data(), hc.bias ? gb.data() : nullptr);
  std::vector<float> grl = rl, ggh = gh, ggk = gk, ggb = gb;
  if (!host_only) {
    tools::Device dh(h), dw(w), db(b), dcw(cw), dids(ids), dst(std::vector<float>(N * kStatsPerRow, NAN)), drl(std::vector<float>(N, NAN));
    tools::Device dgh(std::vector<float>(gh.size(), NAN)), dgk(std::vector<float>(gk.size(), NAN)), dgb(std::vector<float>(gb.size(), NAN));
    tools::Device ddy(std::vector<float>{1.0f});
    head::HeadCall dev = call;
    dev.hidden = dh.as<float>();
    dev.kernel = dw.as<float>();
    dev.bias = hc.bias ? db.as<float>() : nullptr;
    dev.class_weights = hc.class_weights ? dcw.as<float>() : nullptr;
    dev.labels = {LabelFormat::kSparseInt32, dids.ptr};
    cuda::head_forward(dev, dst.as<float>(), drl.as<float>());
    cuda::head_backward(dev, dst.as<float>(), ddy.as<float>(), 1, 1.0 / N, dgh.as<float>(), dgk.as<float>(),
                        hc.bias ? dgb.as<float>() : nullptr);
    grl = drl.download<float>();
    ggh = dgh.download<float>();
    ggk = dgk.download<float>();
    ggb = dgb.download<float>();
    auto near = [](const std::vector<float>& a, const std::vector<float>& e, double tol) {
      float top = 0;
      for (float v : e) top = std::fmax(top, std::fabs(v));
      for (size_t i = 0; i < e.size(); ++i)
        if (!(std::fabs(a[i] - e[i]) <= tol * top + 1e-12)) return false;
      return true;
    };
    report(near(grl, rl, 2e-5), hc.name + ": row losses match the CPU head");
    report(near(ggh, gh, 1e-4) && near(ggk, gk, 1e-4) && (!hc.bias || near(ggb, gb, 1e-4)),
           hc.name + ": hidden, kernel and bias gradients match the CPU head (every entry written)");
  }
  if (ignoring || hc.class_weights || hc.params.label_smoothing > 0 || hc.params.z_loss > 0) {
    std::printf("NOTE %s: options beyond the float64 reference here; compared with the CPU head only\n", hc.name.c_str());
    return;
  }
  // float64 reference
  const double cap = hc.params.softcap;
  std::vector<double> dz(static_cast<size_t>(N * C)), dz_scale(static_cast<size_t>(N * C)), z(static_cast<size_t>(C));
  std::vector<double> grad, scale;
  bool values = true;
  for (int64_t r = 0; r < N; ++r) {
    std::vector<double> raw(static_cast<size_t>(C));
    for (int64_t j = 0; j < C; ++j) {
      double s = hc.bias ? b[j] : 0.0;
      for (int64_t d = 0; d < D; ++d) s += static_cast<double>(h[r * D + d]) * w[d * C + j];
      raw[j] = s;
      z[j] = cap > 0 ? cap * std::tanh(s / cap) : s;
    }
    const std::optional<double> v = reference_row(hc.params, z.data(), C, ids[r], nullptr, grad, scale);
    if (!v) {
      std::printf("NOTE %s: no float64 reference for this kind here; compared with the CPU head only\n", hc.name.c_str());
      return;
    }
    if (!(std::fabs(grl[r] - *v) <= 1e-4 * std::fmax(1.0, std::fabs(*v)))) values = false;
    for (int64_t j = 0; j < C; ++j) {
      const double ch = cap > 0 ? 1.0 / std::pow(std::cosh(raw[j] / cap), 2) : 1.0;
      dz[r * C + j] = grad[j] * ch / N;
      dz_scale[r * C + j] = scale[j] * ch / N;
    }
  }
  std::vector<double> rh(static_cast<size_t>(N * D), 0.0), sh(rh.size(), 0.0), rk(static_cast<size_t>(D * C), 0.0), sk(rk.size(), 0.0);
  std::vector<double> rb(static_cast<size_t>(C), 0.0), sb(rb.size(), 0.0);
  for (int64_t r = 0; r < N; ++r) {
    for (int64_t j = 0; j < C; ++j) {
      const double g = dz[r * C + j], gs = dz_scale[r * C + j];
      rb[j] += g;
      sb[j] += gs;
      for (int64_t d = 0; d < D; ++d) {
        rh[r * D + d] += g * w[d * C + j];
        sh[r * D + d] += gs * std::fabs(w[d * C + j]);
        rk[d * C + j] += g * h[r * D + d];
        sk[d * C + j] += gs * std::fabs(h[r * D + d]);
      }
    }
  }
  report(values, hc.name + ": every row's loss against float64");
  const bool grads =
      close_to(ggh, rh, sh, 1e-4, "hidden") && close_to(ggk, rk, sk, 1e-4, "kernel") && (!hc.bias || close_to(ggb, rb, sb, 1e-4, "bias"));
  report(grads, hc.name + ": hidden, kernel and bias gradients against float64");
}

}  // namespace

int main(int argc, char** argv) {
  bool small = false;
  for (int i = 1; i < argc; ++i) {
    small |= std::strcmp(argv[i], "--small") == 0;
    host_only |= std::strcmp(argv[i], "--host") == 0;
  }
  const cuda::DeviceStatus status = cuda::device_status();
  if (host_only) {
    std::printf("host only: the CPU kernels against the float64 reference\n");
  } else if (!status.available) {
    std::printf("SKIP no CUDA device: %s\n", status.error.c_str());
    return 0;
  } else {
    std::printf("device: %s (sm_%d, %.0f GiB)\n", status.name.c_str(), status.compute_capability, status.memory_gib);
  }
  std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1}, {3, 7}, {64, 1000}, {257, 4099}, {16, 65536}};
  if (!small) shapes.insert(shapes.end(), {{4096, 32000}, {2, 1 << 20}, {8, 1 << 24}});
  const auto params = [](LossKind kind, auto set) {
    LossParams p;
    p.kind = kind;
    set(p);
    return p;
  };
  const LossParams ce = params(LossKind::kMixed, [](LossParams& p) {
    p.alpha = 1;
    p.beta = 0;
  });
  const LossParams mixed = params(LossKind::kMixed, [](LossParams& p) {
    p.alpha = 1;
    p.beta = 2.5f;
  });
  const LossParams el = params(LossKind::kMixed, [](LossParams& p) {
    p.alpha = 0;
    p.beta = 1;
  });
  const LossParams mae = params(LossKind::kMAE, [](LossParams&) {});
  const LossParams focal = params(LossKind::kFocal, [](LossParams& p) {
    p.gamma = 2;
    p.alpha = 0.25f;
  });
  const LossParams gce = params(LossKind::kGeneralizedCE, [](LossParams& p) { p.q = 0.7f; });
  const LossParams tamed = params(LossKind::kTamedCE, [](LossParams& p) { p.a = 0.5f; });
  const LossParams mpce = params(LossKind::kMPCE, [](LossParams&) {});
  const LossParams cot = params(LossKind::kComplementEntropy, [](LossParams&) {});
  std::vector<std::pair<LossParams, std::string>> kinds = {{ce, "CE"},   {mixed, "mixed"}, {el, "EL"},     {mae, "MAE"}, {focal, "focal"},
                                                           {gce, "GCE"}, {tamed, "tamed"}, {mpce, "MPCE"}, {cot, "COT"}};
  // A kind of the registry with no case above runs with its default parameters.
#define MIXLOSS_DEFAULT_CASE(K)                                                                               \
  if (std::none_of(kinds.begin(), kinds.end(), [](const auto& k) { return k.first.kind == LossKind::k##K; })) \
    kinds.push_back({params(LossKind::k##K, [](LossParams&) {}), losses::K::kName});
  MIXLOSS_LOSS_KINDS(MIXLOSS_DEFAULT_CASE)
#undef MIXLOSS_DEFAULT_CASE
  for (auto [B, C] : shapes) {
    const std::string shape = std::to_string(B) + "x" + std::to_string(C);
    for (const auto& [p, name] : kinds) {
      const std::string label = shape + " " + name;
      run({B, C, false, p, label.c_str()});
    }
    for (const auto& [p, name] : std::vector<std::pair<LossParams, std::string>>{{ce, "CE"}, {mixed, "mixed"}}) {
      const std::string label = shape + " dense " + name;
      run({B, C, true, p, label.c_str()});
    }
  }
  // softcap inside the kernels (cap 1.5: the logits in [−4, 4] reach well into tanh's saturation).
  std::vector<std::pair<LossParams, std::string>> capped;
  for (const auto& [p, name] :
       std::vector<std::pair<LossParams, std::string>>{{ce, "CE"}, {mixed, "mixed"}, {cot, "COT"}, {mpce, "MPCE"}}) {
    LossParams with_cap = p;
    with_cap.softcap = 1.5f;
    capped.push_back({with_cap, name + " softcap"});
  }
  for (auto [B, C] : shapes) {
    if (C < 7) continue;
    const std::string shape = std::to_string(B) + "x" + std::to_string(C);
    for (const auto& [p, name] : capped) run({B, C, false, p, (shape + " " + name).c_str()});
    run({B, C, true, capped.front().first, (shape + " dense CE softcap").c_str()});
  }
  // The fused head: shapes that cross the row blocks (32), class tiles (64), depth steps (32) and
  // the class ranges; every head kind, softcap, and the options (against the CPU head).
  std::vector<std::tuple<int64_t, int64_t, int64_t>> head_shapes = {{1, 1, 1}, {5, 3, 70}, {33, 37, 1000}, {70, 65, 4099}};
  if (!small) head_shapes.insert(head_shapes.end(), {{256, 256, 32768}, {8, 128, 1 << 18}});
  LossParams capped_ce = ce;
  capped_ce.softcap = 1.5f;
  LossParams options = mixed;
  options.label_smoothing = 0.1f;
  options.z_loss = 1e-3f;
  options.has_ignore_index = true;
  options.ignore_index = -100;
  for (auto [N, D, C] : head_shapes) {
    const std::string shape = "head " + std::to_string(N) + "x" + std::to_string(D) + "x" + std::to_string(C);
    for (const auto& [p, name] : std::vector<std::pair<LossParams, std::string>>{{ce, "CE"},
                                                                                 {el, "EL"},
                                                                                 {mixed, "mixed"},
                                                                                 {mae, "MAE"},
                                                                                 {focal, "focal"},
                                                                                 {gce, "GCE"},
                                                                                 {tamed, "tamed"},
                                                                                 {capped_ce, "CE softcap"}})
      run_head({N, D, C, p, true, false, shape + " " + name});
    run_head({N, D, C, ce, false, false, shape + " CE without bias"});
    run_head({N, D, C, options, true, true, shape + " mixed, smoothing, z-loss, class weights, ignoreIndex"});
  }
  // Out-of-range labels are found before any kernel runs.
  if (!host_only) {
    tools::Device bad(std::vector<int32_t>{0, 3});
    LossParams p;
    p.kind = LossKind::kMixed;
    report(cuda::find_bad_label({nullptr, 2, 3, {LabelFormat::kSparseInt32, bad.ptr}, p, nullptr, nullptr}) == 1,
           "label 3 of 3 classes rejected at row 1");
  }
  std::printf("%d failed\n", failures);
  return failures;
}
