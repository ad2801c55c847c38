// Rényi's matrix-based α-entropy and the mutual information between class labels and a
// layer's rows (Giraldo, Rao & Príncipe; the regularizer of Zaugg et al.), with the gradient
// w.r.t. the layer in closed form through the matrix function, never through eigenvector
// derivatives. Plain C++ (no Node); float64 throughout; the math is in docs/information.md.
#pragma once

#include <cstdint>

namespace mixloss {
namespace information {

// A layer's activations, one row per example: data[rows * dims], row-major.
struct Layer {
  const float* data;
  int64_t rows;
  int64_t dims;
};

// The RBF Gram matrix K_ij = exp(−‖a_i − a_j‖² / width²) and the entropy's order α
// (α > 0, α ≠ 1; α = 2 takes the exact eigensolver-free path).
struct Options {
  double alpha;
  double width;
};

// Class ids y[rows] in [0, classes).
struct ClassLabels {
  const int32_t* ids;
  int64_t classes;
};

// Entropies in bits. mutual_information = labels + layer − joint.
struct Entropies {
  double labels;
  double layer;
  double joint;
  double mutual_information;
};

// I(Y; Z) and its terms. grad (nullable): ∂I/∂Z, [rows * dims].
Entropies mutual_information(const ClassLabels& y, const Layer& z, const Options& o, float* grad);

// H_α of one layer's normalized Gram matrix. grad (nullable): ∂H/∂Z.
double entropy(const Layer& z, const Options& o, float* grad);

// Kernel alignment ⟨K_Y, K_Z(w)⟩_F / (‖K_Y‖_F ‖K_Z(w)‖_F) for each width w in widths[count].
void alignment(const ClassLabels& y, const Layer& z, const double* widths, int64_t count, double* out);

// Mean Euclidean distance over the pairs i < j (the scale of the alignment's width grid).
double mean_pairwise_distance(const Layer& z);

// Eigenvalues (ascending) and, when vectors is not null, orthonormal eigenvectors (column k of
// the row-major vectors[n * n] belongs to values[k]) of a symmetric n×n matrix a (row-major;
// only its lower triangle is read). The solver every entropy above uses (Eigen's
// SelfAdjointEigenSolver: Householder tridiagonalization, implicit symmetric QR).
void symmetric_eigen(const double* a, int64_t n, double* values, double* vectors);

// The instruction set the measures run with: "avx2" (AVX2 + FMA build) or "baseline".
const char* isa();

}  // namespace information
}  // namespace mixloss
