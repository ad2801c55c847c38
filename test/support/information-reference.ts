// A float64 reference for the Rényi information measures, independent of the native code: a
// cyclic Jacobi eigensolver (slow, accurate) and the definitions written out plainly.

/** Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, by cyclic Jacobi rotations. */
export function jacobiEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length;
  const m = a.map((r) => r.slice());
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p][q]) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = m.map((_, i) => i).sort((i, j) => m[i][i] - m[j][j]);
  return { values: order.map((i) => m[i][i]), vectors: v.map((row) => order.map((i) => row[i])) };
}

/** H_α in bits from eigenvalues (|λ|), straight from the definition. */
export function entropyOfValues(values: number[], alpha: number): number {
  const total = values.reduce((s, l) => s + Math.abs(l), 0);
  return Math.log2(values.reduce((s, l) => s + (Math.abs(l) / total) ** alpha, 0)) / (1 - alpha);
}

export function gram(z: number[][], width: number): number[][] {
  return z.map((a) => z.map((b) => Math.exp(-a.reduce((s, x, k) => s + (x - b[k]) ** 2, 0) / (width * width))));
}

export interface ReferenceTerms {
  labels: number;
  layer: number;
  joint: number;
  mutualInformation: number;
}

/** I(Y; Z) and its terms in float64, by dense N×N eigenproblems (no block or count shortcut). */
export function referenceInformation(ids: ArrayLike<number>, z: number[][], width: number, alpha: number): ReferenceTerms {
  const n = z.length;
  const k = gram(z, width);
  const ky = k.map((_, i) => k.map((__, j) => (ids[i] === ids[j] ? 1 : 0)));
  const h = (m: number[][]) => entropyOfValues(jacobiEigen(m.map((r) => r.map((x) => x / n))).values, alpha);
  const labels = h(ky);
  const layer = h(k);
  const joint = h(k.map((r, i) => r.map((x, j) => x * ky[i][j])));
  return { labels, layer, joint, mutualInformation: labels + layer - joint };
}

/** Central differences of f at z, step h (float64). */
export function centralDifferences(f: (z: number[][]) => number, z: number[][], h = 1e-6): number[][] {
  return z.map((row, i) =>
    row.map((_, j) => {
      const plus = z.map((r) => r.slice());
      const minus = z.map((r) => r.slice());
      plus[i][j] += h;
      minus[i][j] -= h;
      return (f(plus) - f(minus)) / (2 * h);
    }),
  );
}
