#!/usr/bin/env node
// Builds the CPU addon and copies it to prebuilds/<platform>-<arch>/mixloss.node, the file
// the loader falls back to and `npm pack` ships, so that installs without install scripts
// (npm 11's default for dependencies) still get a working addon.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build-prebuild');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
// A separate build folder, CPU only: the prebuild must load on machines without CUDA and
// must not replace a developer's own build/.
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '-O', out], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, MIXLOSS_CUDA: 'OFF' },
});
if (r.status !== 0) process.exit(r.status ?? 1);
const dest = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dest, { recursive: true });
fs.copyFileSync(path.join(out, 'Release', 'mixloss.node'), path.join(dest, 'mixloss.node'));
console.log(`mixloss: prebuilt ${path.relative(root, path.join(dest, 'mixloss.node'))}`);
if (process.platform === 'linux') {
  // What the prebuild asks of the system it loads on (glibc 2.34 at most, no libstdc++).
  const abi = require('./check-prebuild-abi');
  const found = abi.problems(abi.requirements(path.join(dest, 'mixloss.node')));
  if (found.length) {
    fs.rmSync(path.join(dest, 'mixloss.node'));
    console.error(`mixloss: the prebuild would not load where the README says it does; not shipped:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
}
