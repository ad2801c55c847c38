#!/usr/bin/env node
// `npm prepare`: builds the TypeScript in a clone of mixloss (tsc -p tsconfig.json). In the
// installed package there is nothing to build (dist/ ships, tsconfig.json does not), and npm
// runs prepare there too (npm rebuild mixloss): then this does nothing.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
if (!fs.existsSync(path.join(root, 'tsconfig.json'))) process.exit(0);
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
