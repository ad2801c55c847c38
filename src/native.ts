// Loads the native addon: a local build (cmake-js or node-gyp, build/Release) first, then the
// prebuilt binary shipped in the package (prebuilds/<platform>-<arch>/). When neither loads,
// the error says exactly what to run.
import * as path from 'path';

import type { LossSpec } from './kernels/attrs';

export interface NativeInfo {
  /** The addon file in use. */
  path: string;
  simd: string;
  /**
   * Which row loops run: 'avx512' (written for AVX-512, where the CPU has it), 'avx2' (written for
   * AVX2 + FMA, where the CPU has those and not AVX-512; MIXLOSS_ROW_LOOPS=avx2 asks for them on an
   * AVX-512 CPU) or 'clones' (the compiler's builds per instruction set; MIXLOSS_ROW_LOOPS=clones
   * asks for them).
   */
  rowLoops: string;
  /** Threads the CPU kernels run on (setNumThreads; by default min(cpus.affinity, ⌈cpus.quota⌉)). */
  threads: number;
  /**
   * The CPUs this process may use, which size the default pool: those in its affinity mask
   * (taskset, a container's cpuset) and its cgroup's CPU quota in CPUs (docker --cpus, a
   * Kubernetes CPU limit; the tightest of its cgroup and their parents, v1 or v2), or null.
   */
  cpus: { affinity: number; quota: number | null };
  statsPerRow: number;
  cudaCompiled: boolean;
  /** The instruction set of the information measures' build in use: 'avx2' (AVX2 + FMA) or 'baseline'. */
  informationIsa: string;
}

/** The fields every kernel call names (host memory). */
export interface NativeCall {
  logits: Float32Array;
  rows: number;
  classes: number;
  labels: Int32Array | Float32Array;
  dense: boolean;
  loss: LossSpec;
  classWeights?: Float32Array;
  /** Sample weights [rows]. */
  weights?: Float32Array;
  stats: Float32Array;
}

/** What a 'mean' can divide by, over the rows not ignored. */
export interface MeanDivisors {
  /** Σ classWeights[y] (PyTorch's weighted mean; the row count without class weights). */
  classWeights: number;
  rows: number;
  /** Σ sample weights (tf.Reduction.MEAN). */
  sampleWeights: number;
  /** Rows with a non-zero sample weight (SUM_BY_NONZERO_WEIGHTS). */
  nonzero: number;
}

/** A loss kind as the native registry describes it (native/core/losses/registry.h). */
export interface NativeLossKind {
  name: string;
  /** Linear in the targets: takes dense targets and label smoothing. */
  linear: boolean;
  /** Its gradient has complement entropy's term over the other classes (not the seam's form alone). */
  complement: boolean;
  /** A constraint between its parameters that their ranges do not say ('beta >= -alpha'), or null. */
  constraint: string | null;
  /** The row statistics it needs beyond the base ones (loss_spec.h's list of needs). */
  needs: { argmax: boolean; targets: boolean; expLogit: boolean };
  params: Array<{ name: string; min: number; max: number; minOpen: boolean; maxOpen: boolean }>;
}

/** The row statistics' layout (native/core/row_stats.h): floats per row, and each slot's index by name. */
export interface NativeStatsLayout {
  perRow: number;
  slots: Readonly<Record<string, number>>;
}

export interface NativeAddon {
  /** Returns Σ row loss. */
  forward(call: NativeCall & { rowLoss: Float32Array }): number;
  backward(call: NativeCall & { dy: Float32Array; dyScale: number; grad: Float32Array }): void;
  forwardBackward(call: NativeCall & { rowLoss: Float32Array; gradScale: number; grad: Float32Array }): number;
  scaleRows(args: { grad: Float32Array; rows: number; classes: number; dy: Float32Array; scale: number }): void;
  meanDivisors(args: Omit<NativeCall, 'logits' | 'stats'>): MeanDivisors;
  /** null, or what is wrong with the spec. */
  checkLoss(args: { loss: LossSpec; dense: boolean; classWeights: boolean }): string | null;
  /** [alpha, beta] of a kind linear in the targets, else null. */
  linearCoefficients(loss: LossSpec): [number, number] | null;
  /** The registry of loss kinds. */
  lossKinds(): NativeLossKind[];
  /** The row statistics' layout. */
  statsLayout(): NativeStatsLayout;
  /** Benchmark baseline: read, read, read + write over the array, no exp. */
  threePassMemoryLoop(x: Float32Array, rows: number, classes: number, out: Float32Array): void;
  /** The CPU kernel calls running now and started so far, over the whole process (tests read it). */
  kernelActivity(): { inFlight: number; started: number };
  /** out = exp(values) through the row loops' vector exp (the tests check its accuracy). */
  expValues(call: { values: Float32Array; out: Float32Array }): void;
  /** The cgroup CPU quota read under a directory laid out as / (tests); 0 when none. */
  cgroupCpuQuota(root: string): number;
  /** softcap's in-cap capped logits, as its loops form them; returns the polynomial's number of terms (the tests check them). */
  softcapNearValues(call: { values: Float32Array; cap: number; out: Float32Array }): number;
  getThreads(): number;
  /** Returns the pool's size after the change (fewer when the system refused threads). */
  setThreads(threads: number): number;
  info(): Omit<NativeInfo, 'path'>;
  cudaStatus(): CudaStatus;
  /** Rényi information measures (native/addon/information.cc); grad gets ∂I/∂layer. */
  renyiInformation(args: RenyiLayerArgs & RenyiClassArgs & RenyiOptionArgs & { grad?: Float32Array }): RenyiEntropies;
  renyiEntropy(args: RenyiLayerArgs & RenyiOptionArgs & { grad?: Float32Array }): number;
  kernelAlignment(args: RenyiLayerArgs & RenyiClassArgs & { widths: Float64Array; out: Float64Array }): void;
  meanPairwiseDistance(args: RenyiLayerArgs): number;
  symmetricEigen(args: { matrix: Float64Array; n: number; values: Float64Array; vectors?: Float64Array }): void;
  /** The fused classifier head (native/addon/head.cc). Returns Σ row loss. */
  headForward(call: NativeHeadCall & { stats: Float32Array; rowLoss: Float32Array }): number;
  headBackward(call: NativeHeadCall & NativeHeadGradients): void;
  headShardStatistics(call: NativeHeadCall & NativeHeadShard & { out: Float32Array }): void;
  headMergeStatistics(args: { a: Float32Array; b: Float32Array; rows: number; out: Float32Array }): void;
  /** Returns Σ row loss; fails when a row's target is in no merged shard, or in several. */
  headFinish(args: NativeHeadLoss & { merged: Float32Array; totalClasses: number; stats: Float32Array; rowLoss: Float32Array }): number;
  headShardBackward(call: NativeHeadCall & NativeHeadShard & NativeHeadGradients): void;
  headTopK(args: {
    hidden: Float32Array;
    kernel: Float32Array;
    bias?: Float32Array;
    rows: number;
    dims: number;
    classes: number;
    k: number;
    softcap?: number;
    values: Float32Array;
    indices: Int32Array;
  }): void;
  /** Benchmark floor: the step's three products on the head's tiles, no loss (gemm_floor.h). */
  headGemmFloor(args: {
    hidden: Float32Array;
    kernel: Float32Array;
    rows: number;
    dims: number;
    classes: number;
    gradHidden: Float32Array;
    gradKernel: Float32Array;
  }): void;
  /** The shard statistics' floats per row, the tile products' instruction set, the kinds the head takes. */
  headLayout(): { shardStats: number; isa: string; kinds: string };
  // Present only in builds with CUDA (cudaStatus().compiled):
  DeviceBuffer?: new (byteLength: number) => NativeDeviceBuffer;
  cudaForward?(call: NativeDeviceCall & { rowLoss: NativeDeviceBuffer }): void;
  cudaBackward?(call: NativeDeviceCall & { dy: NativeDeviceBuffer; dyLength: number; dyScale: number; grad: NativeDeviceBuffer }): void;
  cudaSynchronize?(): void;
}

/** The loss of a head call: class ids, the loss spec (softcap allowed), optional weights. */
export interface NativeHeadLoss {
  rows: number;
  labels: Int32Array | Float32Array;
  loss: LossSpec;
  classWeights?: Float32Array;
  /** Sample weights [rows]. */
  weights?: Float32Array;
}

/** A head call: hidden [rows, dims] · kernel [dims, classes] + bias [classes]. */
export interface NativeHeadCall extends NativeHeadLoss {
  hidden: Float32Array;
  kernel: Float32Array;
  bias?: Float32Array;
  dims: number;
  classes: number;
  /** headForward and headBackward: 'cuda' runs the CUDA head on copies of the arrays. */
  device?: 'cpu' | 'cuda';
}

/** A shard of the head: its first class and the head's class count. */
export interface NativeHeadShard {
  classOffset: number;
  totalClasses: number;
}

/** The backward fields: finished row statistics, the upstream gradient, the outputs. */
export interface NativeHeadGradients {
  stats: Float32Array;
  dy: Float32Array;
  dyScale: number;
  gradHidden: Float32Array;
  gradKernel: Float32Array;
  gradBias?: Float32Array;
}

/** A layer's rows [rows, dims], row-major. */
export interface RenyiLayerArgs {
  layer: Float32Array;
  rows: number;
  dims: number;
}

/** Class ids [rows] in [0, classes). */
export interface RenyiClassArgs {
  labels: Int32Array;
  classes: number;
}

export interface RenyiOptionArgs {
  alpha: number;
  width: number;
}

/** Entropies in bits; mutualInformation = labels + layer − joint. */
export interface RenyiEntropies {
  labels: number;
  layer: number;
  joint: number;
  mutualInformation: number;
}

/** The fields of a kernel call on device memory. */
export interface NativeDeviceCall {
  logits: NativeDeviceBuffer;
  rows: number;
  classes: number;
  labels: NativeDeviceBuffer;
  labelsType: 'int32' | 'float32';
  dense: boolean;
  loss: LossSpec;
  classWeights?: NativeDeviceBuffer;
  weights?: NativeDeviceBuffer;
  stats: NativeDeviceBuffer;
}

export interface NativeDeviceBuffer {
  readonly byteLength: number;
  upload(data: ArrayBufferView, byteOffset?: number): void;
  download<T extends ArrayBufferView>(into: T, byteOffset?: number): T;
  free(): void;
}

export interface CudaStatus {
  /** The addon was built with the CUDA kernels. */
  compiled: boolean;
  /** A CUDA device is usable now. */
  available: boolean;
  deviceCount: number;
  name?: string;
  computeCapability?: number;
  memoryGiB?: number;
  /** Why no device is available. */
  error?: string;
}

/** The package root (this file is in src/ or dist/src/). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!require('fs').existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export function prebuildPath(root = packageRoot()): string {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node');
}

function loadAddon(): { addon: NativeAddon; path: string } {
  const root = packageRoot();
  const fs = require('fs') as typeof import('fs');
  const tried: string[] = [];
  const firstLine = (e: unknown) => String((e as Error).message).split('\n')[0];
  /** Loads a file, or records why not: that it is missing, else the loader's own first line. */
  const attempt = (what: string, file: string): NativeAddon | undefined => {
    if (!fs.existsSync(file)) {
      tried.push(`${what}: ${file} does not exist`);
      return undefined;
    }
    try {
      return require(file) as NativeAddon;
    } catch (e) {
      tried.push(`${what}: ${file}: ${firstLine(e)}`);
      return undefined;
    }
  };
  const explicit = process.env.MIXLOSS_ADDON;
  if (explicit) {
    try {
      return { addon: require(explicit) as NativeAddon, path: explicit };
    } catch (e) {
      tried.push(`MIXLOSS_ADDON=${explicit}: ${firstLine(e)}`);
    }
  } else {
    // cmake-js and node-gyp both put a local build in build/Release.
    const local = path.join(root, 'build', 'Release', 'mixloss.node');
    const built = attempt('local build', local);
    if (built !== undefined) return { addon: built, path: local };
    const prebuilt = prebuildPath(root);
    const shipped = attempt(`prebuilt addon for ${process.platform}-${process.arch}`, prebuilt);
    if (shipped !== undefined) return { addon: shipped, path: prebuilt };
  }
  throw new Error(
    `mixloss: the native addon could not be loaded for ${process.platform}-${process.arch} (Node ${process.version}).\n` +
      `  Tried:\n    ${tried.join('\n    ')}\n` +
      `  mixloss ships a prebuilt addon for linux-x64 (glibc 2.34+); elsewhere it builds from source, which npm 11\n` +
      `  skips for dependencies until you approve it. Build it with:\n` +
      `    npm install-scripts approve mixloss && npm rebuild mixloss\n` +
      `  (needs cmake, a C++17 compiler and Eigen 3.3+ headers: apt-get install cmake g++ libeigen3-dev on Debian/Ubuntu,\n` +
      `   dnf install cmake gcc-c++ eigen3-devel on Fedora/RHEL, brew install cmake eigen on macOS; or python3 + make + g++\n` +
      `   + Eigen for the node-gyp fallback; from a clone of mixloss itself: npm run build:native).`,
  );
}

let loaded: { addon: NativeAddon; path: string } | undefined;

/** The addon, loaded on first use so that `require('mixloss')` itself never fails. */
export function native(): NativeAddon {
  if (loaded === undefined) loaded = loadAddon();
  return loaded.addon;
}

/** Which build is in use and how it runs: its file, SIMD level, threads, CUDA. */
export function nativeInfo(): NativeInfo {
  const info = native().info();
  return { path: (loaded as { path: string }).path, ...info };
}

/**
 * Sets the threads used by the CPU kernels (default: MIXLOSS_NUM_THREADS, else the CPUs this
 * process may use, nativeInfo().cpus), an integer in [1, 1024]. Returns the number now in use: fewer than asked when the system
 * refused to start more (mixloss then warns on stderr and runs with what it has).
 */
export function setNumThreads(threads: number): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new Error(
      `mixloss.setNumThreads: threads must be an integer in [1, 1024], got ${typeof threads === 'number' ? threads : `a ${typeof threads}`}`,
    );
  }
  return native().setThreads(threads);
}

export function getNumThreads(): number {
  return native().getThreads();
}
