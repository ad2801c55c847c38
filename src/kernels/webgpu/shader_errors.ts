// WebGPU compiles a shader without telling the caller whether it failed: the error reaches
// getCompilationInfo() and the device's error events later, and the command runs as a no-op
// that leaves its output as it was. A tfjs kernel cannot wait for that. A device that watches its
// modules records the compile errors of mixloss's programs, and the next mixloss kernel on it
// throws the first one (its results, and those of the call that compiled it, are not computed).
// mixloss/webgpu installs the watch on the device it creates. Free of Node APIs.

const WATCH = Symbol.for('mixloss.webgpu.shaderErrors');

/** What mixloss's programs carry in their code (their helpers are named ml_*). */
const MIXLOSS_PROGRAM = /\bfn ml_/;

interface CompilationInfo {
  messages: ArrayLike<{ type: string; message: string; lineNum?: number }>;
}
interface WatchedDevice {
  createShaderModule(descriptor: { code: string; label?: string }): unknown;
  [WATCH]?: string[];
}

/** Makes the device record the compile errors of mixloss's modules (once per device). */
export function installShaderErrorWatch(device: { createShaderModule(descriptor: { code: string }): unknown }): void {
  const d = device as WatchedDevice;
  if (d[WATCH] !== undefined) return;
  const errors: string[] = [];
  d[WATCH] = errors;
  const create = d.createShaderModule.bind(d);
  d.createShaderModule = (descriptor) => {
    const module = create(descriptor) as { getCompilationInfo?: () => Promise<CompilationInfo> };
    if (MIXLOSS_PROGRAM.test(descriptor.code) && typeof module?.getCompilationInfo === 'function') {
      module.getCompilationInfo().then(
        (info) => {
          for (const m of Array.from(info.messages)) {
            if (m.type === 'error') errors.push(`${m.message}${m.lineNum !== undefined ? ` (line ${m.lineNum})` : ''}`);
          }
        },
        (e: unknown) => errors.push(String(e)),
      );
    }
    return module;
  };
}

/** Throws the first compile error recorded on the device since the last call, if any. */
export function throwShaderErrors(device: unknown): void {
  const errors = (device as WatchedDevice)[WATCH];
  if (errors === undefined || errors.length === 0) return;
  const first = errors[0];
  errors.length = 0;
  throw new Error(
    `mixloss: a WebGPU program of an earlier mixloss call failed to compile on this device, so that call's results were not ` +
      `computed: ${first}. Please report it with your adapter (setupWebGPU's result) and the call's shapes and options`,
  );
}
