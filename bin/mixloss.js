#!/usr/bin/env node
// The mixloss command line: `mixloss bench` (see `mixloss bench --help`).
'use strict';
require('../dist/bench/cli.js')
  .main(process.argv.slice(2))
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
