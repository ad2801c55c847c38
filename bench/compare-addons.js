#!/usr/bin/env node
// Two builds of the addon side by side on the native training pass (forwardBackward), sparse
// class ids and dense one-hot targets, interleaved rounds in one process, medians:
//   node bench/compare-addons.js BASELINE.node [CURRENT.node] [--shape 128x32768] [--rounds 30]
// BASELINE from scripts/build-baseline.sh COMMIT; CURRENT defaults to build/Release/mixloss.node.
'use strict';
const path = require('path');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const [B, C] = flag('--shape', '128x32768').split('x').map(Number);
const rounds = Number(flag('--rounds', '30'));
const [basePath, curPath = path.join(__dirname, '..', 'build', 'Release', 'mixloss.node')] = args;
if (!basePath || !(B > 0 && C > 0)) {
  console.error('usage: node bench/compare-addons.js BASELINE.node [CURRENT.node] [--shape BxC] [--rounds N]');
  process.exit(1);
}
const addons = { baseline: require(path.resolve(basePath)), current: require(path.resolve(curPath)) };

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const logits = new Float32Array(B * C).map(() => random() * 6 - 3);
const ids = new Int32Array(B).map((_, r) => (r * 7919) % C);
const onehot = new Float32Array(B * C);
ids.forEach((y, r) => {
  onehot[r * C + y] = 1;
});
const grad = new Float32Array(B * C),
  rowLoss = new Float32Array(B);

const pass = (addon, labels, dense) => {
  const stats = new Float32Array(B * addon.info().statsPerRow); // the layout of that build
  return () =>
    addon.forwardBackward({
      logits,
      rows: B,
      classes: C,
      labels,
      dense,
      loss: { kind: 'mixed', alpha: 1, beta: 0 },
      stats,
      rowLoss,
      gradScale: 1 / B,
      grad,
    });
};
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${B} × ${C}, CE training pass (forwardBackward), median of ${rounds} rounds × 5 calls, ms`);
for (const [name, labels, dense] of [
  ['class ids', ids, false],
  ['one-hot targets', onehot, true],
]) {
  const fns = Object.fromEntries(Object.entries(addons).map(([k, a]) => [k, pass(a, labels, dense)]));
  const times = { baseline: [], current: [] };
  for (let r = 0; r < rounds; r++) {
    for (const k of Object.keys(fns)) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 5; i++) fns[k]();
      times[k].push(Number(process.hrtime.bigint() - t) / 5e6);
    }
  }
  const [b, c] = [median(times.baseline), median(times.current)];
  console.log(`  ${name.padEnd(16)} baseline ${b.toFixed(2)}  current ${c.toFixed(2)}  current/baseline ${(c / b).toFixed(3)}`);
}
