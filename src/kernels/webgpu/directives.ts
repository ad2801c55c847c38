// WGSL wants its directives (`enable subgroups;`) before any declaration, and
// tfjs-backend-webgpu composes a program's module as its own declarations followed by the
// program's code: a program cannot put a directive first. A device whose createShaderModule
// hoists the directives a module holds to its front lets a program write them in its own code.
// mixloss/webgpu installs that on the device it creates; without it (tfjs's own device, as in a
// browser today) the kernels take their plain path. Free of Node APIs.

const HOISTS = Symbol.for('mixloss.webgpu.hoistsDirectives');

/** `enable …;`, `requires …;` and `diagnostic(…);` lines, which must come first in a module. */
const DIRECTIVE = /^[ \t]*(?:enable|requires|diagnostic)\b[^;\n]*;[ \t]*$/gm;

/** The module with its directive lines moved to the front, each once, in their order. */
export function hoistDirectives(code: string): string {
  const found = code.match(DIRECTIVE);
  if (found === null) return code;
  const directives = [...new Set(found.map((d) => d.trim()))];
  return `${directives.join('\n')}\n${code.replace(DIRECTIVE, '')}`;
}

interface ShaderModuleMaker {
  createShaderModule(descriptor: { code: string }): unknown;
}

/** Makes the device hoist directives in every module it compiles (once per device). */
export function installDirectiveHoisting(device: ShaderModuleMaker): void {
  const d = device as ShaderModuleMaker & { [HOISTS]?: true };
  if (d[HOISTS]) return;
  const create = d.createShaderModule.bind(d);
  d.createShaderModule = (descriptor) => create({ ...descriptor, code: hoistDirectives(descriptor.code) });
  d[HOISTS] = true;
}

/** Whether the device's modules may carry directives in a program's own code. */
export function hoistsDirectives(device: unknown): boolean {
  return (device as { [HOISTS]?: true })[HOISTS] === true;
}
