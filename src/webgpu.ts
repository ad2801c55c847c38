// mixloss/webgpu: the webgpu backend of tfjs in Node, set up in one call. It creates Dawn's
// instance (the `webgpu` package), gives Node a navigator.gpu, finds an adapter, registers
// tfjs-backend-webgpu's backend on it and selects it. The fused losses then run their WGSL
// kernels on the tensors' own GPU buffers. Node-only; the kernels themselves
// (src/kernels/webgpu) use no Node API.
import * as tf from '@tensorflow/tfjs-core';

import { installDirectiveHoisting } from './kernels/webgpu/directives';
import { installShaderErrorWatch } from './kernels/webgpu/shader_errors';
import { requireOptional } from './optional';
import { described } from './validate';

export interface WebGPUSetupOptions {
  /**
   * Dawn's backend: 'vulkan' (default on Linux: a GPU's driver, or Mesa's lavapipe as a software
   * adapter) or 'opengl' (Mesa's llvmpipe or a GPU's GL driver, at WebGPU's compatibility
   * feature level).
   */
  backend?: 'vulkan' | 'opengl';
  /** 'high-performance' (default) or 'low-power': which adapter to prefer. */
  powerPreference?: 'high-performance' | 'low-power';
  /** More Dawn toggles, passed to the `webgpu` package's create() as they are ('name=value'). */
  dawnFlags?: string[];
}

export interface WebGPUSetup {
  /** The adapter's vendor, architecture, device and description, as Dawn reports them. */
  adapter: { vendor: string; architecture: string; device: string; description: string };
  backend: 'vulkan' | 'opengl';
  /** The limits the fused losses meet (docs/webgpu.md): the largest buffer one program binds. */
  maxStorageBufferBindingSize: number;
  /** Whether the adapter is a CPU (software) one: lavapipe, llvmpipe, SwiftShader. */
  software: boolean;
  /**
   * Whether the device has subgroup operations: the statistics pass then merges a workgroup's
   * partial sums with them (tf.env() flag MIXLOSS_WEBGPU_SUBGROUPS = false turns that off).
   */
  subgroups: boolean;
}

const INSTALL = 'npm install webgpu @tensorflow/tfjs-backend-webgpu';
const VULKAN =
  "a Vulkan driver: a GPU vendor's, or Mesa's software adapter lavapipe (Debian and Ubuntu: apt-get install " +
  'libvulkan1 mesa-vulkan-drivers; Debian 12 needs mesa-vulkan-drivers from bookworm-backports, as its own 22.3 lacks a feature Dawn requires)';

type Gpu = { requestAdapter(o?: object): Promise<Adapter | null> };
interface Adapter {
  info?: { vendor: string; architecture: string; device: string; description: string };
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(d: object): Promise<unknown>;
}

let setupDone: WebGPUSetup | undefined;

/**
 * Sets up and selects tfjs's webgpu backend in Node. Call it once, before the first op; later
 * calls return the first setup. Throws an Error that says what is missing: the `webgpu` or
 * `@tensorflow/tfjs-backend-webgpu` package, a driver, or an adapter. Node keeps running while
 * the GPU is referenced: end scripts with process.exit().
 */
export async function setupWebGPU(options: WebGPUSetupOptions = {}): Promise<WebGPUSetup> {
  for (const key of Object.keys(options)) {
    if (!['backend', 'powerPreference', 'dawnFlags'].includes(key)) {
      throw new Error(`mixloss/webgpu: unknown option '${key}' (known: backend, powerPreference, dawnFlags)`);
    }
  }
  const backend = options.backend ?? 'vulkan';
  if (backend !== 'vulkan' && backend !== 'opengl')
    throw new Error(`mixloss/webgpu: backend must be 'vulkan' or 'opengl', got ${described(backend)}`);
  if (setupDone !== undefined) {
    if (setupDone.backend !== backend)
      throw new Error(`mixloss/webgpu: already set up on ${setupDone.backend}; a process has one Dawn instance`);
    await tf.setBackend('webgpu');
    return setupDone;
  }
  const dawn = requireOptional<{ create(flags: string[]): Gpu; globals: Record<string, unknown> }>('webgpu', 'mixloss/webgpu', INSTALL);
  // Dawn's OpenGL backend goes through EGL, whose default platform wants a display: without one
  // (a server, CI), Mesa's surfaceless platform renders off-screen (llvmpipe, or a GPU's DRI).
  if (backend === 'opengl' && !process.env.EGL_PLATFORM && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    process.env.EGL_PLATFORM = 'surfaceless';
  }
  // Dawn's instance for these options (a failed setup may be retried with others).
  const gpu = dawn.create([...(backend === 'opengl' ? ['backend=opengl'] : []), ...(options.dawnFlags ?? [])]);
  // WebGPU's classes (GPUBufferUsage, GPUBuffer, ...) as globals, as tfjs-backend-webgpu expects them.
  Object.assign(globalThis, dawn.globals);
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(nav), { gpu }), configurable: true, writable: true });
  const adapterOptions = {
    powerPreference: options.powerPreference ?? 'high-performance',
    ...(backend === 'opengl' ? { featureLevel: 'compatibility' } : {}),
  };
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (adapter === null) {
    throw new Error(
      `mixloss/webgpu: Dawn found no WebGPU adapter on ${backend}; ` +
        (backend === 'vulkan'
          ? `it needs ${VULKAN}`
          : `it needs EGL and OpenGL 4.3 or later (a GPU's GL driver, or Mesa's: libegl1, libegl-mesa0 and libgl1-mesa-dri; without a display ` +
            `EGL_PLATFORM=surfaceless, which mixloss sets when DISPLAY and WAYLAND_DISPLAY are unset), or use the default Vulkan backend with ${VULKAN}`),
    );
  }
  const webgpu = requireOptional<{ WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend }>(
    '@tensorflow/tfjs-backend-webgpu',
    'mixloss/webgpu',
    INSTALL,
  );
  // tfjs-backend-webgpu's own factory asks for an adapter without the feature level: register
  // one on this adapter, with the limits and features tfjs asks for.
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const l = adapter.limits;
    // tfjs's features, and subgroups for mixloss's reductions (src/kernels/webgpu/programs.ts).
    const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage', 'subgroups'].filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    // A program's `enable subgroups;` goes first in its module (tfjs puts its declarations there).
    installDirectiveHoisting(device as { createShaderModule(d: { code: string }): unknown });
    // A mixloss shader that fails to compile is thrown by the next mixloss call (WebGPU reports it late).
    installShaderErrorWatch(device as { createShaderModule(d: { code: string }): unknown });
    return new webgpu.WebGPUBackend(device, adapter.info);
  });
  if (!(await tf.setBackend('webgpu')))
    throw new Error(`mixloss/webgpu: tfjs could not start the webgpu backend on this adapter (${describe(adapter)})`);
  const info = adapter.info ?? { vendor: '', architecture: '', device: '', description: '' };
  setupDone = {
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    backend,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    software: /lavapipe|llvmpipe|swiftshader|software/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`),
    subgroups: adapter.features.has('subgroups'), // asked for above whenever the adapter has it
  };
  return setupDone;
}

function describe(adapter: Adapter): string {
  const i = adapter.info;
  return i === undefined ? 'no adapter info' : [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(', ');
}
