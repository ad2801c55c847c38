// Optional peers (vega for charts, Dawn's webgpu, tfjs-backend-webgpu), loaded on first use: a
// project without them still loads mixloss, and the first use says what to install.

/**
 * require(name), or an Error "<who> needs <name>: <install>". A package that is installed but
 * fails to load (a native binary this system cannot run, say) gets its own reason in the message.
 */
export function requireOptional<T>(name: string, who: string, install: string): T {
  try {
    return require(name) as T;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const missing = err.code === 'MODULE_NOT_FOUND' && err.message.includes(`'${name}'`);
    const why = missing ? '' : ` (installed, but it failed to load: ${err.message.split('\n')[0]})`;
    throw new Error(`${who} needs ${name}${why}: ${install}`, { cause: e });
  }
}
