// Stop 41: the block graph's queries, drawn between the mutations so that what they *return* is
// compared too (a fuzz case is a `"replies": true` scenario: oracle/fuzz/run-case.ts runCase; the
// reply is normalised by the recorder for QEMU and the model alike, oracle/replies.ts). One of the
// eight queries oracle/replies.ts RECORDED_QUERIES records, with the argument variants their QAPI
// schema has: query-named-block-nodes with and without `flat` (qmp_query_named_block_nodes:
// bdrv_named_nodes_list(flat) drops the backing-image chain), query-blockstats with and without
// `query-nodes` (qmp_query_blockstats: the BlockBackends, or every named node), query-block-jobs,
// query-jobs, query-block-exports, x-debug-query-block-graph, query-iothreads. The vm target adds
// HMP's `info` printers (grammar-vm.ts hmpInfo), compared as text (`"hmp-text": true`).
import { RECORDED_QUERIES } from '../../replies.js';
import { cmd, type Production } from '../production.js';

/** Each recorded query once, the ones with arguments in their variants. */
export const QUERY_FORMS: { execute: string; args: () => Record<string, boolean> }[] = [
  { execute: 'query-named-block-nodes', args: () => ({}) },
  { execute: 'query-named-block-nodes', args: () => ({ flat: true }) },
  { execute: 'query-named-block-nodes', args: () => ({ flat: false }) },
  { execute: 'query-block', args: () => ({}) },
  { execute: 'query-blockstats', args: () => ({}) },
  { execute: 'query-blockstats', args: () => ({ 'query-nodes': true }) },
  { execute: 'query-blockstats', args: () => ({ 'query-nodes': false }) },
  { execute: 'query-block-jobs', args: () => ({}) },
  { execute: 'query-jobs', args: () => ({}) },
  { execute: 'query-block-exports', args: () => ({}) },
  { execute: 'x-debug-query-block-graph', args: () => ({}) },
  { execute: 'query-iothreads', args: () => ({}) },
];

const blockQuery: Production = (g, _p, proc) => {
  const f = g.rng.pick(QUERY_FORMS);
  return cmd(proc, f.execute, f.args());
};

// every form is one the recorder keeps the reply of (a form it did not would compare nothing)
for (const f of QUERY_FORMS) if (!RECORDED_QUERIES.has(f.execute)) throw new Error(`${f.execute} is not a recorded query`);

/**
 * About one command in twelve (20 of the grammar's ~250 weight): a query after most mutations
 * within a 25-command case, on process B as well (its own daemon over the same images).
 */
export const QUERIES: [Production, number][] = [[blockQuery, 20]];
export const QUERIES_B: [Production, number][] = [[blockQuery, 2]];
