// libFuzzer target over the native core's entry points, below N-API: every loss
// kind with parameters anywhere in its registry range (ends included), both label forms, class
// and sample weights, ignore_index, label smoothing and z-loss, shapes that split rows across
// threads, labels out of range and logits with NaN and ±∞. Invariants, besides "no crash and
// no sanitizer report":
//   - find_bad_label finds exactly the first row whose class id is neither in [0, C) nor
//     ignored; the kernels only run when there is none (as the addon does);
//   - forward and forward_backward give the same row losses and statistics;
//   - backward from forward's statistics gives forward_backward's gradient;
//   - with finite logits and weights: finite row losses and gradients; ignored rows 0;
//   - without z-loss each gradient row sums to ~0 (softmax is shift invariant).
// Build and run: scripts/fuzz.sh (clang's libFuzzer, with ASan and UBSan).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fused_loss.h"
#include "fuzz_input.h"
#include "losses/registry.h"

using namespace mixloss;

namespace {

using fuzz::Input;

// A value of a parameter's range: its ends (when closed and finite), just inside them, or a
// point in between; open or infinite ends are approached, not reached.
float param_value(Input& in, const losses::ParamSpec& s) {
  const double lo = std::isinf(s.min) ? -1e3 : s.min, hi = std::isinf(s.max) ? 1e3 : s.max;
  double v;
  switch (in.byte() % 5) {
    case 0: v = s.min_open || std::isinf(s.min) ? lo + 1e-3 * (hi - lo) : lo; break;
    case 1: v = s.max_open || std::isinf(s.max) ? hi - 1e-3 * (hi - lo) : hi; break;
    case 2: v = lo + (hi - lo) * 1e-6; break;
    default: v = lo + (hi - lo) * (in.u16() / 65535.0); break;
  }
  if (s.min_open && v <= s.min) v = std::nextafter(static_cast<float>(s.min), HUGE_VALF);
  if (s.max_open && v >= s.max) v = std::nextafter(static_cast<float>(s.max), -HUGE_VALF);
  return static_cast<float>(v);
}

uint64_t mix(uint64_t& s) {
  s += 0x9e3779b97f4a7c15ull;
  uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The call being checked, printed when an invariant breaks (row r: logits, label, gradient).
struct Shown {
  const float* logits = nullptr;
  const float* grad = nullptr;
  const int32_t* ids = nullptr;
  int64_t classes = 0;
  const LossParams* params = nullptr;
  int64_t rows = 0;
  unsigned flags = 0;
} shown;

void fail(const char* what, int64_t r, double a, double b) {
  std::fprintf(stderr, "mixloss fuzz: invariant broken: %s (row %lld: %.9g vs %.9g)\n", what, static_cast<long long>(r), a, b);
  if (shown.params != nullptr) {
    const LossParams& p = *shown.params;
    std::fprintf(stderr,
                 "kind %d alpha %.9g beta %.9g gamma %.9g q %.9g truncation %.9g a %.9g z_loss %.9g smoothing %.9g ignore %d:%lld; %lld "
                 "rows × %lld classes, flags 0x%x\n",
                 static_cast<int>(p.kind), p.alpha, p.beta, p.gamma, p.q, p.truncation, p.a, p.z_loss, p.label_smoothing,
                 p.has_ignore_index ? 1 : 0, static_cast<long long>(p.ignore_index), static_cast<long long>(shown.rows),
                 static_cast<long long>(shown.classes), shown.flags);
  }
  if (shown.logits != nullptr && r >= 0) {
    std::fprintf(stderr, "label %d\nlogit,gradient\n", shown.ids != nullptr ? shown.ids[r] : -1);
    for (int64_t j = 0; j < shown.classes; ++j)
      std::fprintf(stderr, "%.9g,%.9g\n", shown.logits[r * shown.classes + j],
                   shown.grad != nullptr ? shown.grad[r * shown.classes + j] : 0.0);
  }
  std::abort();
}

bool close(double a, double b, double rel, double abs) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= abs + rel * std::fmax(std::fabs(a), std::fabs(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  // Shape: mostly small; sometimes one or two long rows (split into slices across threads).
  const uint8_t shape = in.byte();
  const int64_t rows = 1 + shape % 9;
  const int64_t classes = (shape & 0x80) ? 2000 + in.u16() % 20000 : 1 + in.u16() % 300;
  LossParams P{};
  P.kind = static_cast<LossKind>(in.byte() % kLossKindCount);
  bool linear = false, valid = true;
  visit_kind(P.kind, [&](auto k) {
    using K = decltype(k);
    linear = K::kLinear;
    for (const losses::ParamSpec& s : K::kParams)
      if (s.name != nullptr) P.*(s.field) = param_value(in, s);
    valid = K::check(P) == nullptr;
    return 0;
  });
  if (!valid) return 0;  // the addon rejects it (a constraint between parameters)
  const uint8_t flags = in.byte();
  const bool dense = linear && (flags & 1);
  const bool class_weights = !dense && (flags & 2);
  const bool row_weights = flags & 4;
  if (flags & 8) P.z_loss = (in.byte() % 4) * 0.25f * 1e-2f;
  if (linear && !dense && (flags & 16)) P.label_smoothing = in.byte() / 255.0f;
  if (!dense && (flags & 32)) {
    P.has_ignore_index = true;
    P.ignore_index = (flags & 64) ? -100 : static_cast<int64_t>(in.byte() % (classes + 1));
  }
  const bool finite = !(flags & 128);
  uint64_t seed = in.u16() | (uint64_t{in.u16()} << 16);
  const float scale = std::ldexp(1.0f, static_cast<int>(in.byte() % 24) - 6);  // logits up to ~2^17
  const int64_t n = rows * classes;

  std::vector<float> logits(static_cast<size_t>(n));
  for (auto& x : logits) x = (static_cast<float>(mix(seed) >> 40) / 16777216.0f * 2 - 1) * scale;
  if (!finite) {
    static const float kSpecial[] = {NAN, INFINITY, -INFINITY, -INFINITY, 0.0f, 3e38f, -3e38f};
    for (int k = in.byte() % 8; k > 0; --k) logits[static_cast<size_t>(mix(seed) % n)] = kSpecial[in.byte() % 7];
  }
  std::vector<int32_t> ids(static_cast<size_t>(rows));
  std::vector<float> targets;
  for (int64_t r = 0; r < rows; ++r) ids[r] = static_cast<int32_t>(mix(seed) % classes);
  if (P.has_ignore_index && rows > 1) ids[mix(seed) % rows] = static_cast<int32_t>(P.ignore_index);
  const uint8_t corrupt = in.byte();
  if (!dense && corrupt % 7 == 0) {  // a bad class id somewhere
    static const int64_t kBad[] = {-1, 0, -2147483647 - 1, 2147483647};
    const int64_t b = kBad[corrupt % 4];
    ids[mix(seed) % rows] = static_cast<int32_t>(b == 0 ? classes : b);
  }
  if (dense) {  // one-hot, soft, or all-zero rows (the op checks rows are distributions)
    targets.assign(static_cast<size_t>(n), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t form = in.byte() % 3;
      if (form == 0) targets[r * classes + ids[r]] = 1.0f;
      if (form == 1) {
        double sum = 0;
        for (int64_t j = 0; j < classes; ++j) sum += targets[r * classes + j] = static_cast<float>(mix(seed) % 1000);
        for (int64_t j = 0; j < classes; ++j)
          targets[r * classes + j] = sum > 0 ? static_cast<float>(targets[r * classes + j] / sum) : 0.0f;
      }
    }
  }
  std::vector<float> cw, rw;
  if (class_weights)
    for (int64_t j = 0; j < classes; ++j) cw.push_back((mix(seed) % 5) * 0.5f);
  if (row_weights)
    for (int64_t r = 0; r < rows; ++r) rw.push_back((mix(seed) % 5) * 0.5f);

  std::vector<float> stats(static_cast<size_t>(rows * kStatsPerRow)), stats2(stats.size());
  LossCall c{logits.data(),
             rows,
             classes,
             dense ? Labels{LabelFormat::kDenseFloat32, targets.data()} : Labels{LabelFormat::kSparseInt32, ids.data()},
             P,
             class_weights ? cw.data() : nullptr,
             stats.data(),
             row_weights ? rw.data() : nullptr};

  if (!dense) {
    int64_t first_bad = -1;
    for (int64_t r = 0; r < rows && first_bad < 0; ++r) {
      const bool ignored = P.has_ignore_index && ids[r] == P.ignore_index;
      if (!ignored && (ids[r] < 0 || ids[r] >= classes)) first_bad = r;
    }
    const int64_t found = cpu::find_bad_label(c);
    if (found != first_bad) fail("find_bad_label", found, static_cast<double>(found), static_cast<double>(first_bad));
    if (found >= 0) return 0;  // the addon throws before any kernel runs
  }

  std::vector<float> loss1(static_cast<size_t>(rows)), loss2(loss1.size()), grad(static_cast<size_t>(n)), grad2(grad.size());
  const double scale_grad = 1.0 / static_cast<double>(rows);
  cpu::forward(c, loss1.data());
  LossCall c2 = c;
  c2.stats = stats2.data();
  cpu::forward_backward(c2, loss2.data(), scale_grad, grad.data());
  const float dy = 1.0f;
  cpu::backward(c, &dy, 1, scale_grad, grad2.data());

  shown = {logits.data(), grad.data(), dense ? nullptr : ids.data(), classes, &P, rows, flags};
  for (int64_t r = 0; r < rows; ++r) {
    const bool ignored = !dense && P.has_ignore_index && ids[r] == P.ignore_index;
    if (!close(loss1[r], loss2[r], 1e-4, 1e-5)) fail("forward vs forward_backward row loss", r, loss1[r], loss2[r]);
    // The size of the terms that cancel: the weight times the parameters (α·CE + β·EL with
    // α = 999, β = −998 leaves ~1e-6 of terms ~1, a rounding that the two passes make
    // differently; and a one-class row's gradient is 0 in exact arithmetic) and CE = −log p_y,
    // which multiplies the entries of MPCE and focal loss.
    const double ce = std::isfinite(stats2[r * kStatsPerRow + slot::ce]) ? std::fabs(stats2[r * kStatsPerRow + slot::ce]) : 0.0;
    const double terms = (1.0 + std::fabs(P.alpha) + std::fabs(P.beta) + std::fabs(P.alpha * P.gamma)) * (1.0 + ce) * scale_grad *
                         (row_weights ? rw[r] : 1.0) * (class_weights ? 2.0 : 1.0);
    double sum = 0, abs_sum = 0;
    bool row_finite = true;
    for (int64_t j = 0; j < classes; ++j) {
      const double g = grad[r * classes + j], g2 = grad2[r * classes + j];
      if (!close(g, g2, 1e-3, 1e-6 * terms)) fail("backward vs forward_backward gradient", r, g, g2);
      row_finite = row_finite && std::isfinite(g);
      sum += g;
      abs_sum += std::fabs(g);
    }
    if (ignored && (loss1[r] != 0.0f || abs_sum != 0.0)) fail("an ignored row adds something", r, loss1[r], abs_sum);
    if (finite && !std::isfinite(loss1[r])) fail("finite inputs, non-finite row loss", r, loss1[r], 0);
    if (finite && !row_finite) fail("finite inputs, non-finite gradient", r, sum, abs_sum);
    // Relative to the entries, and to the size of the terms that cancel (above). MPCE's argmax
    // entry ~CE·(1 − p_k) reads 1 − p_k from a row sum kept in float lanes: an absolute error of
    // ~1e-7·CE (docs/reliability.md).
    if (finite && P.z_loss == 0.0f && std::fabs(sum) > 1e-4 * abs_sum + 1e-6 * terms)
      fail("gradient row does not sum to 0", r, sum, abs_sum);
  }
  return 0;
}
