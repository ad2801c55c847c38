#!/usr/bin/env node
// `npm install` hook. Uses the prebuilt addon shipped in prebuilds/ when it loads on this
// machine; otherwise builds from source: cmake-js (CMakeLists.txt, CUDA when nvcc is found)
// or, where cmake is missing, node-gyp (binding.gyp, CPU only).
//
//   MIXLOSS_BUILD_FROM_SOURCE=1  always build (e.g. to get the CUDA kernels)
//   MIXLOSS_CUDA=ON|OFF|AUTO     CUDA in the cmake build (default AUTO: when nvcc is found)
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const log = (msg) => console.log(`mixloss: ${msg}`);

function prebuildLoads() {
  const file = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node');
  if (!fs.existsSync(file)) return false;
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status === 0;
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function cmakeBuild() {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  return run(process.execPath, [cmakeJs, 'compile']);
}

function gypBuild() {
  // npm tells its scripts where its bundled node-gyp is; otherwise try one on PATH.
  const bundled = process.env.npm_config_node_gyp;
  return bundled ? run(process.execPath, [bundled, 'rebuild']) : run('node-gyp', ['rebuild']);
}

if (!process.env.MIXLOSS_BUILD_FROM_SOURCE && prebuildLoads()) {
  log(`using the prebuilt addon for ${process.platform}-${process.arch}`);
  process.exit(0);
}
const built = has('cmake') ? cmakeBuild() : (log('cmake not found, building with node-gyp (CPU only)'), gypBuild());
if (!built) {
  console.error(
    'mixloss: the native build failed. It needs a C++17 compiler, Eigen 3.3+ headers and cmake (or python3 + make for node-gyp).\n' +
      '  On Debian/Ubuntu: apt-get install -y cmake g++ libeigen3-dev ; then: npm rebuild mixloss',
  );
  process.exit(1);
}
