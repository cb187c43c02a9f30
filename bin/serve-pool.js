// libuv's thread pool for a serving `blockgraph qmp` (issue 15, wt-perf16). libuv reads
// UV_THREADPOOL_SIZE once, when its pool starts (uv__work_submit → init_once → init_threads), and
// an ESM entry is read through that pool (node's ESM loader reads files with fs/promises), so only a
// CommonJS entry, read synchronously, can still set it. A served command's synced batch is one pool
// job at a time (the event log writes one group at a time), and libuv wakes its idle workers in
// turn (one condition variable, glibc's waiters woken in order), so with the default four workers
// every batch is taken by the worker that has slept the longest; with one worker it is the same
// thread each time. Measured interleaved (bench/pool-ab.ts, bench/RESULTS.md "The synced batch's
// tail"): the served command's p99 lower against the same raw synced batch with one worker.
// A value the user set is kept. The variable is removed again once the pool has started, so that
// processes the server spawns (QEMU for `qmp record`) get their own default.
'use strict';

// `qmp`'s oracle tools (cli/commands/qmp.ts, qmp-proxy.ts) serve no durable command
const TOOLS = new Set(['run', 'record', 'compare', 'proxy']);

/** The pool size to set for `argv` (the CLI's arguments) and `env`, or undefined to leave it. */
function servePoolSize(argv, env) {
  if (env.UV_THREADPOOL_SIZE !== undefined) return undefined;
  const at = argv.findIndex((a) => !a.startsWith('-'));
  if (at < 0 || argv[at] !== 'qmp' || TOOLS.has(argv[at + 1])) return undefined;
  return '1';
}

module.exports = { servePoolSize };
