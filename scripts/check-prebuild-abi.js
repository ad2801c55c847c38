#!/usr/bin/env node
// What a Linux addon asks of the system it loads on: its shared libraries (DT_NEEDED) and the
// highest symbol version it takes from each (objdump -T). The prebuild must need glibc ≥ 2.34
// at most and no libstdc++ (linked in statically), so it loads on every distribution with
// glibc 2.34: RHEL 9 and its rebuilds, Amazon Linux 2023, Ubuntu 22.04, Debian 12 and newer.
//
//   node scripts/check-prebuild-abi.js [file]   (default: this platform's prebuild)
// Used by scripts/prebuild.js (a prebuild that fails is not shipped) and test/package.test.ts.
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');

// The ceiling per symbol-version family, and the libraries the addon may need.
const LIMITS = { GLIBC: '2.34', GCC: '4.2.0' };
const ALLOWED_LIBRARIES = ['libc.so.6', 'libm.so.6', 'libmvec.so.1', 'libgcc_s.so.1', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1'];

function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** {libraries: DT_NEEDED entries, versions: {family: highest version required}}. */
function requirements(file) {
  const headers = execFileSync('objdump', ['-p', file], { encoding: 'utf8' });
  const libraries = [...headers.matchAll(/^\s*NEEDED\s+(\S+)/gm)].map((m) => m[1]);
  const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const versions = {};
  // Undefined (imported) symbols only: "*UND*" lines carry the version they need.
  for (const m of symbols.matchAll(/\*UND\*\s+\S+\s+\(?([A-Z_]+?)_(\d+(?:\.\d+)*)\)?\s/g)) {
    const [, family, version] = m;
    if (!versions[family] || compareVersions(version, versions[family]) > 0) versions[family] = version;
  }
  return { libraries, versions };
}

/** Problems with a prebuild's requirements (empty when it meets the limits). */
function problems({ libraries, versions }) {
  const out = [];
  for (const lib of libraries) if (!ALLOWED_LIBRARIES.includes(lib)) out.push(`needs ${lib} (allowed: ${ALLOWED_LIBRARIES.join(', ')})`);
  for (const [family, version] of Object.entries(versions)) {
    const limit = LIMITS[family];
    if (limit === undefined) out.push(`needs ${family}_${version} (no ${family} symbols are allowed: link that runtime statically)`);
    else if (compareVersions(version, limit) > 0) out.push(`needs ${family}_${version} (at most ${family}_${limit})`);
  }
  return out;
}

module.exports = { LIMITS, ALLOWED_LIBRARIES, compareVersions, requirements, problems };

if (require.main === module) {
  const file = process.argv[2] ?? path.join(__dirname, '..', 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node');
  if (process.platform !== 'linux') {
    console.log(`mixloss: ABI check is for Linux builds; skipped on ${process.platform}`);
    process.exit(0);
  }
  const req = requirements(file);
  const found = problems(req);
  const summary = Object.entries(req.versions).map(([f, v]) => `${f}_${v}`).join(', ');
  if (found.length) {
    console.error(`mixloss: ${path.basename(file)} would not load where the README says it does:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`mixloss: ${path.relative(process.cwd(), file)} needs ${req.libraries.join(', ')}; at most ${summary}`);
}
