#!/usr/bin/env node
// `npm install` hook. Uses the prebuilt addon shipped in prebuilds/ when it loads on this
// machine; otherwise builds from source: cmake-js (CMakeLists.txt, CUDA when nvcc is found)
// or, where cmake is missing, node-gyp (binding.gyp, CPU only).
//
//   MIXLOSS_BUILD_FROM_SOURCE=1  always build (e.g. to get the CUDA kernels)
//   MIXLOSS_CUDA=ON|OFF|AUTO     CUDA in the cmake build (default AUTO: when nvcc is found)
//
// The build's own packages (cmake-js, node-addon-api, node-api-headers) are not installed with
// mixloss, which most users run from the prebuild: a source build asks for them by name.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const log = (msg) => console.log(`mixloss: ${msg}`);
const forced = Boolean(process.env.MIXLOSS_BUILD_FROM_SOURCE);
// `npm install` in mixloss's own clone (not as a dependency): a failed build fails the install.
const ownClone = path.resolve(process.env.INIT_CWD || '.') === path.resolve(root);
const BUILD_PACKAGES = ['cmake-js@^8', 'node-addon-api@^8', 'node-api-headers@^1'];

function prebuildLoads() {
  const file = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node');
  if (!fs.existsSync(file)) return false;
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return r.status === 0;
}

const resolvable = (name) => {
  try {
    require.resolve(`${name}/package.json`, { paths: [root] });
    return true;
  } catch {
    return false;
  }
};

/** Runs a build step, its output shown as it comes and kept: the real error is quoted at the end. */
function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, env: process.env, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stderr.write(output);
  if (r.error) return { ok: false, output: `${output}\n${r.error.message}` };
  return { ok: r.status === 0, output };
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The lines of a failed build that say why (compiler and CMake errors), at most 12. */
function why(output) {
  const lines = output.split('\n').map((l) => l.trimEnd());
  const errors = lines.filter((l) => /(error|Error|ERROR|No such file|not found|CMake Error)/.test(l) && !/^-- /.test(l));
  return (errors.length ? errors : lines.filter(Boolean)).slice(-12).map((l) => `    ${l}`).join('\n');
}

function fail(message) {
  console.error(`mixloss: ${message}`);
  // Forced: the build was asked for and failed. Not forced (no prebuild for this machine): the
  // install goes on, and the first op names what to run (require('mixloss') never fails).
  process.exit(forced || ownClone ? 1 : 0);
}

if (!forced && prebuildLoads()) {
  log(`using the prebuilt addon for ${process.platform}-${process.arch}`);
  process.exit(0);
}
const missing = ['cmake-js', 'node-addon-api', 'node-api-headers'].filter((n) => !resolvable(n));
const useCmake = has('cmake');
// node-gyp needs node-addon-api only; cmake-js all three.
const needed = useCmake ? missing : missing.filter((n) => n === 'node-addon-api');
if (needed.length > 0) {
  fail(
    `building the addon from source needs ${needed.join(', ')} (${forced ? 'MIXLOSS_BUILD_FROM_SOURCE is set' : `no prebuilt addon loads on ${process.platform}-${process.arch}`}).\n` +
      `  Install them beside mixloss, then rebuild:\n` +
      `    npm install --save-dev ${BUILD_PACKAGES.join(' ')}\n` +
      `    npm install-scripts approve mixloss && npm rebuild mixloss\n` +
      `  (the build also needs cmake, a C++17 compiler and Eigen 3.3+ headers: apt-get install cmake g++ libeigen3-dev)`,
  );
}
const result = useCmake
  ? run(process.execPath, [require.resolve('cmake-js/bin/cmake-js', { paths: [root] }), 'compile'])
  : (log('cmake not found, building with node-gyp (CPU only)'),
    process.env.npm_config_node_gyp ? run(process.execPath, [process.env.npm_config_node_gyp, 'rebuild']) : run('node-gyp', ['rebuild']));
if (!result.ok) {
  fail(
    `the native build failed:\n${why(result.output)}\n` +
      `  It needs cmake (or python3 + make for node-gyp), a C++17 compiler and Eigen 3.3+ headers\n` +
      `  (Debian/Ubuntu: apt-get install -y cmake g++ libeigen3-dev; Fedora/RHEL: dnf install cmake gcc-c++ eigen3-devel;\n` +
      `  macOS: brew install cmake eigen), then: npm rebuild mixloss`,
  );
}
