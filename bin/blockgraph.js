#!/usr/bin/env node
// The published entry point runs the compiled CLI (built by `npm ci` through `prepare`). CommonJS
// (bin/package.json), so that it runs before libuv's pool starts: see bin/serve-pool.js.
'use strict';
const { servePoolSize } = require('./serve-pool.js');

const argv = process.argv.slice(2);
const pool = servePoolSize(argv, process.env);
if (pool !== undefined) process.env.UV_THREADPOOL_SIZE = pool;
import('../dist/cli/main.js').then((m) => {
  if (pool !== undefined) delete process.env.UV_THREADPOOL_SIZE;
  return m.main(argv);
}).then(
  (code) => { process.exitCode = code ?? 0; },
  (err) => { console.error(err?.stack ?? err); process.exitCode = 70; },
);
