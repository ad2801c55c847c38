// Rényi matrix-based entropies and mutual information (renyi.h), on Eigen in float64. Included
// once per instruction set (renyi_base.cpp, renyi_avx2.cpp) inside namespace MIXLOSS_INFO_ISA;
// the AVX2 build renames Eigen's namespace too, so the two share no symbol (CMake checks it).
//
// H_α(A) = log2(Σ λ^α) / (1 − α) over the eigenvalues of A = K / N (K's diagonal is 1, so this
// is Giraldo's trace normalization). The labels' Gram matrix is the same-class indicator: its
// eigenvalues are n_c / N, so H(Y) comes from the class counts. The joint matrix K_Y ∘ K / N is
// block-diagonal by class: C small eigenproblems instead of one N × N.
//
// Gradient: dH/dA = U diag(α λ^(α−1)) Uᵀ / ((1 − α) ln 2 · Σ λ^α) (the matrix function's
// derivative, which holds with repeated eigenvalues), then P = (∂/∂K) ∘ K and
// ∂/∂z_i = −(4 / s²) Σ_j P_ij (z_i − z_j). Only off-diagonal entries of ∂/∂K matter (K_ii = 1),
// so the multiple of the identity in α λ^(α−1) is dropped: α (λ^(α−1) − 1) stays bounded as
// α → 1 where α λ^(α−1) / (1 − α) would cancel.
// Not a normal header: no include guard.
#ifndef MIXLOSS_INFO_ISA
#error "define MIXLOSS_INFO_ISA (renyi_base.cpp, renyi_avx2.cpp) before including renyi_impl.h"
#endif

#include <Eigen/Dense>

#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <vector>

#include "renyi.h"
#include "thread_pool.h"

namespace mixloss {
namespace information {
namespace MIXLOSS_INFO_ISA {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kLn2 = 0.69314718055994530942;

// Containers get an allocator of this namespace, so that their instantiations are this ISA's own
// symbols: a std::vector<int64_t> compiled with AVX2 must not be the one the baseline code calls.
template <class T>
struct Alloc : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = Alloc<U>;
  };
  Alloc() = default;
  template <class U>
  Alloc(const Alloc<U>&) {}
};
template <class T>
using Vec = std::vector<T, Alloc<T>>;

MatrixXd layer_matrix(const Layer& z) {
  MatrixXd m(z.rows, z.dims);
  for (int64_t i = 0; i < z.rows; ++i)
    for (int64_t j = 0; j < z.dims; ++j) m(i, j) = z.data[i * z.dims + j];
  return m;
}

// ‖z_i − z_j‖², exactly symmetric, ≥ 0, zero diagonal (a norm's gradient at 0 would be NaN:
// squared distances only).
MatrixXd squared_distances(const MatrixXd& z) {
  const int64_t n = z.rows();
  const VectorXd norms = z.rowwise().squaredNorm();
  MatrixXd d(n, n);
  d.noalias() = z * z.transpose();
  for (int64_t j = 0; j < n; ++j) {
    d(j, j) = 0;
    for (int64_t i = j + 1; i < n; ++i) {
      const double v = std::max(0.0, norms(i) + norms(j) - 2 * d(i, j));
      d(i, j) = v;
      d(j, i) = v;
    }
  }
  return d;
}

MatrixXd gram(const MatrixXd& sq, double width) { return (sq.array() * (-1.0 / (width * width))).exp().matrix(); }

// One diagonal block of a trace-1 matrix: the rows it covers, its entries, and after
// block_entropy its eigen-decomposition and dH/d(entries).
struct Block {
  Vec<int64_t> rows;
  MatrixXd m;
  VectorXd values;
  MatrixXd vectors;
  MatrixXd dh;
};

void decompose(Block& b, bool vectors) {
  if (b.m.rows() == 1) {  // the solver handles it, but this is exact and common (a class seen once)
    b.values = b.m.diagonal();
    if (vectors) b.vectors = MatrixXd::Identity(1, 1);
    return;
  }
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(b.m, vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  if (es.info() != Eigen::Success) throw std::runtime_error("the symmetric eigensolver did not converge");
  b.values = es.eigenvalues();
  if (vectors) b.vectors = es.eigenvectors();
}

// H_α from eigenvalues λ (|λ|: rounding leaves tiny negative ones; none is dropped),
// renormalized to Σ = 1 and summed as log1p(Σ λ expm1((α − 1) ln λ)) so α → 1 does not cancel.
double entropy_of_values(const Vec<const VectorXd*>& parts, double alpha) {
  double total = 0;
  for (const VectorXd* v : parts) total += v->cwiseAbs().sum();
  double s = 0;
  for (const VectorXd* v : parts)
    for (int64_t k = 0; k < v->size(); ++k) {
      const double p = std::abs((*v)(k)) / total;
      if (p > 0) s += p * std::expm1((alpha - 1) * std::log(p));
    }
  return std::log1p(s) / ((1 - alpha) * kLn2);
}

// For α < 1, d(λ^α)/dλ = α·λ^(α−1) diverges as λ → 0: a Gram matrix that is numerically
// rank-deficient (equal rows, or a width far above the distances) has no finite gradient, and
// one that is infinite, or made of rounding, must not reach the weights unannounced.
[[noreturn]] void divergent_gradient(double alpha) {
  // snprintf, not std::to_string: no std template instantiated in this per-ISA build.
  char message[320];
  std::snprintf(message, sizeof message,
                "the gradient is not finite: for alpha < 1 (got %g) it diverges where the Gram matrix is numerically "
                "rank-deficient (equal rows, or a width far above the distances). Use alpha >= 1 (the paper's 1.01) or a smaller width",
                alpha);
  throw std::runtime_error(message);
}

// The gradient as float32; not finite (α < 1): the error above.
void write(const MatrixXd& g, float* out, double alpha) {
  for (int64_t i = 0; i < g.rows(); ++i)
    for (int64_t j = 0; j < g.cols(); ++j) {
      const float v = static_cast<float>(g(i, j));
      if (!std::isfinite(v)) divergent_gradient(alpha);
      out[i * g.cols() + j] = v;
    }
}

// H_α of the block-diagonal matrix made of `blocks`, and (grad) each block's dH/dM (its
// diagonal up to a common multiple of the identity).
double block_entropy(Vec<Block>& blocks, double alpha, bool grad) {
  if (alpha == 2) {
    // tr A² = ‖A‖_F²: no eigensolver. dH/dA = −2A / (ln 2 · ‖A‖_F²).
    double s = 0;
    for (const Block& b : blocks) s += b.m.squaredNorm();
    if (grad)
      for (Block& b : blocks) b.dh = b.m * (-2.0 / (kLn2 * s));
    return -std::log2(s);
  }
  Vec<const VectorXd*> parts;
  for (Block& b : blocks) {
    decompose(b, grad);
    parts.push_back(&b.values);
  }
  const double h = entropy_of_values(parts, alpha);
  if (!grad) return h;
  double s = 0;  // Σ |λ|^α
  for (const Block& b : blocks) s += b.values.cwiseAbs().array().pow(alpha).sum();
  if (alpha < 1) {
    // An eigenvalue within the solver's rounding of 0 (its absolute error is about ε·λ_max per
    // row) makes λ^(α−1) a number of rounding: the gradient would be finite but meaningless
    // (fuzzing found column sums 2% of its size at N = 8 with equal rows).
    double top = 0, low = INFINITY;
    int64_t n = 0;
    for (const Block& b : blocks) {
      top = std::max(top, b.values.cwiseAbs().maxCoeff());
      low = std::min(low, b.values.cwiseAbs().minCoeff());
      n += b.values.size();
    }
    if (low <= 64.0 * static_cast<double>(n) * 2.220446049250313e-16 * top) divergent_gradient(alpha);
  }
  const double scale = alpha / ((1 - alpha) * kLn2 * s);
  for (Block& b : blocks) {
    VectorXd g(b.values.size());
    for (int64_t k = 0; k < g.size(); ++k) {
      const double l = b.values(k);
      // d|λ|^α/dλ = α sgn(λ) |λ|^(α−1), less the identity's share α.
      g(k) = scale * (l > 0 ? std::expm1((alpha - 1) * std::log(l)) : l < 0 ? -std::pow(-l, alpha - 1) - 1 : -1.0);
    }
    b.dh.noalias() = b.vectors * g.asDiagonal() * b.vectors.transpose();
    // The product is symmetric only up to rounding, and where two eigenvalues nearly coincide (a
    // width far below the distances: K ≈ I) an off-diagonal entry is nothing but that rounding.
    // P = dh ∘ K must be exactly symmetric, or the gradient's column sums (translation
    // invariance) do not vanish (found by fuzzing: 3% of the gradient's size at N = 2).
    for (int64_t j = 0; j < b.dh.cols(); ++j)
      for (int64_t i = j + 1; i < b.dh.rows(); ++i) {
        const double v = 0.5 * (b.dh(i, j) + b.dh(j, i));
        b.dh(i, j) = v;
        b.dh(j, i) = v;
      }
  }
  return h;
}

// Adds scale·∂H/∂Z for one block, from its dH/dM (b.dh; M = K[rows, rows]/N, so scale carries
// the 1/N and the sign): P = dh ∘ K, ∂/∂z_i = −(4/s²) Σ_j P_ij (z_i − z_j), with the
// differences formed first. The matrix form (Diag(P·1) − P)·Z subtracts P_ij·z_i and P_ij·z_j
// in separate sums: for equal rows (z_i = z_j, K_ij = 1) their rounding, times 4/s², is all that
// is left when the width is far below the other distances (found by fuzzing). Differences are
// exact zeros there. K is read at the block's rows: no copy of the block.
void add_layer_gradient(const Block& b, double scale, const MatrixXd& k, const MatrixXd& z, double width, MatrixXd& out) {
  const int64_t n = static_cast<int64_t>(b.rows.size()), d = z.cols();
  const double c = scale * -4.0 / (width * width);
  ThreadPool::instance().parallel_for(n, 16, [&](int64_t begin, int64_t end) {
    Eigen::RowVectorXd acc(d);
    for (int64_t i = begin; i < end; ++i) {
      const int64_t ri = b.rows[i];
      acc.setZero();
      for (int64_t j = 0; j < n; ++j) {
        const double p = b.dh(i, j) * k(ri, b.rows[j]);
        if (j == i || p == 0) continue;
        acc += p * (z.row(ri) - z.row(b.rows[j]));
      }
      out.row(ri) += c * acc;
    }
  });
}

Block whole(const MatrixXd& k) {
  Block b;
  b.rows.resize(k.rows());
  for (int64_t i = 0; i < k.rows(); ++i) b.rows[i] = i;
  b.m = k * (1.0 / static_cast<double>(k.rows()));  // as the joint blocks: one class gives the same matrix, bit for bit
  return b;
}

Vec<Vec<int64_t>> rows_by_class(const ClassLabels& y, int64_t n) {
  Vec<Vec<int64_t>> by(y.classes);
  for (int64_t i = 0; i < n; ++i) by[y.ids[i]].push_back(i);
  return by;
}

}  // namespace

double entropy(const Layer& layer, const Options& o, float* grad) {
  const MatrixXd z = layer_matrix(layer);
  const MatrixXd k = gram(squared_distances(z), o.width);
  Vec<Block> blocks{whole(k)};
  const double h = block_entropy(blocks, o.alpha, grad != nullptr);
  if (grad) {
    MatrixXd g = MatrixXd::Zero(z.rows(), z.cols());
    add_layer_gradient(blocks[0], 1.0 / static_cast<double>(z.rows()), k, z, o.width, g);
    write(g, grad, o.alpha);
  }
  return h;
}

Entropies mutual_information(const ClassLabels& y, const Layer& layer, const Options& o, float* grad) {
  const int64_t n = layer.rows;
  const double inv_n = 1.0 / static_cast<double>(n);
  const MatrixXd z = layer_matrix(layer);
  const MatrixXd k = gram(squared_distances(z), o.width);
  const auto by_class = rows_by_class(y, n);

  Entropies e{};
  // H(Y): eigenvalues n_c / N.
  VectorXd counts(static_cast<int64_t>(by_class.size()));
  for (size_t c = 0; c < by_class.size(); ++c) counts(static_cast<int64_t>(c)) = static_cast<double>(by_class[c].size()) * inv_n;
  e.labels = entropy_of_values({&counts}, o.alpha);

  Vec<Block> marginal{whole(k)};
  e.layer = block_entropy(marginal, o.alpha, grad != nullptr);

  Vec<Block> joint;
  for (const auto& rows : by_class) {
    if (rows.empty()) continue;
    Block b;
    b.rows = rows;
    b.m.resize(static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t j = 0; j < rows.size(); ++j) b.m(i, j) = k(rows[i], rows[j]) * inv_n;
    joint.push_back(std::move(b));
  }
  e.joint = block_entropy(joint, o.alpha, grad != nullptr);
  e.mutual_information = e.labels + e.layer - e.joint;

  if (grad) {
    MatrixXd g = MatrixXd::Zero(n, z.cols());
    // ∂I = ∂H(Z) − ∂H(Y, Z). With one class both terms are computed from the same matrix in the
    // same order, so they cancel exactly.
    add_layer_gradient(marginal[0], inv_n, k, z, o.width, g);
    for (const Block& b : joint) add_layer_gradient(b, -inv_n, k, z, o.width, g);
    write(g, grad, o.alpha);
  }
  return e;
}

void alignment(const ClassLabels& y, const Layer& layer, const double* widths, int64_t count, double* out) {
  const int64_t n = layer.rows;
  const MatrixXd sq = squared_distances(layer_matrix(layer));
  double label_norm2 = 0;  // ‖K_Y‖_F² = Σ n_c²
  {
    Vec<double> counts(y.classes, 0.0);
    for (int64_t i = 0; i < n; ++i) counts[y.ids[i]] += 1;
    for (double c : counts) label_norm2 += c * c;
  }
  // One width per task, on the kernels' thread pool.
  ThreadPool::instance().parallel_for(count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      const double inv = -1.0 / (widths[w] * widths[w]);
      double inner = static_cast<double>(n), norm2 = static_cast<double>(n);  // the diagonal's ones
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = j + 1; i < n; ++i) {
          const double kij = std::exp(sq(i, j) * inv);
          norm2 += 2 * kij * kij;
          if (y.ids[i] == y.ids[j]) inner += 2 * kij;
        }
      out[w] = inner / std::sqrt(label_norm2 * norm2);
    }
  });
}

double mean_pairwise_distance(const Layer& layer) {
  const int64_t n = layer.rows;
  if (n < 2) return 0;
  const MatrixXd sq = squared_distances(layer_matrix(layer));
  double s = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = j + 1; i < n; ++i) s += std::sqrt(sq(i, j));
  return s / (static_cast<double>(n) * static_cast<double>(n - 1) / 2);
}

void symmetric_eigen(const double* a, int64_t n, double* values, double* vectors) {
  Block b;
  b.m = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a, n,
                                                                                                 n);  // the solver reads the lower triangle
  decompose(b, vectors != nullptr);
  for (int64_t k = 0; k < n; ++k) values[k] = b.values(k);
  if (vectors)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < n; ++k) vectors[i * n + k] = b.vectors(i, k);
}

}  // namespace MIXLOSS_INFO_ISA
}  // namespace information
}  // namespace mixloss
