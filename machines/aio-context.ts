// An AioContext move (bdrv_child_try_change_aio_context, 7.2) as a statechart:
// visit (collect every node, BlockBackend and job of the component, asking parents first)
// -> drain (every recorded node is quiesced before anything moves) -> commit (all
// recorded actions, LIFO as tran_commit runs them) | abort (nothing moves) -> clean
// (undrain, LIFO) -> done. The machine decides; graph/aio.ts executes. It is pure: the
// graph code feeds it events through `transition`, so replay gets the same decisions.
import { assign, initialTransition, setup, transition, type SnapshotFrom } from 'xstate';

export type AioTarget = { kind: 'node' | 'bb' | 'job'; id: string };

export type AioEvent =
  | { type: 'VISITED'; actions: AioTarget[] }   // registration order (tran_add order)
  | { type: 'REFUSED'; error: string; actions: AioTarget[] } // actions recorded before the refusal
  | { type: 'DRAINED' }
  | { type: 'DONE' };                            // commit or abort pass finished

export interface AioCtx {
  from: string;
  to: string;
  actions: AioTarget[];    // newest first, as tran_add keeps them
  error: string | null;
  calls: string[];         // the phase calls in order, for the plan log and for specs
}

const fmt = (t: AioTarget) => `${t.kind}:${t.id}`;

export const aioContextMachine = setup({
  types: { context: {} as AioCtx, events: {} as AioEvent, input: {} as { from: string; to: string } },
  actions: {
    record: assign({
      actions: ({ event }) => (event.type === 'VISITED' || event.type === 'REFUSED' ? [...event.actions].reverse() : []),
    }),
    refuse: assign({ error: ({ event }) => (event.type === 'REFUSED' ? event.error : null) }),
    planDrain: assign({ calls: ({ context }) => [...context.calls, ...[...context.actions].reverse().filter((a) => a.kind === 'node').map((a) => `drain:${fmt(a)}`)] }),
    planCommit: assign({ calls: ({ context }) => [...context.calls, ...context.actions.map((a) => `commit:${fmt(a)}`)] }),
    planAbort: assign({ calls: ({ context }) => [...context.calls, ...context.actions.map((a) => `abort:${fmt(a)}`)] }),
    planClean: assign({ calls: ({ context }) => [...context.calls, ...context.actions.filter((a) => a.kind === 'node').map((a) => `clean:${fmt(a)}`)] }),
  },
}).createMachine({
  id: 'aio-context',
  context: ({ input }) => ({ from: input.from, to: input.to, actions: [], error: null, calls: [] }),
  initial: 'visit',
  states: {
    visit: {
      on: {
        VISITED: { target: 'drain', actions: ['record', 'planDrain'] },
        REFUSED: { target: 'abort', actions: ['record', 'refuse', 'planAbort'] },
      },
    },
    // Nodes were drained while being visited (under the old context); everything is quiesced now.
    drain: { on: { DRAINED: { target: 'commit', actions: 'planCommit' } } },
    commit: { on: { DONE: { target: 'clean', actions: 'planClean' } } },
    abort: { on: { DONE: { target: 'clean', actions: 'planClean' } } },
    clean: { always: 'done' },
    done: { type: 'final' },
  },
});

export type AioSnapshot = SnapshotFrom<typeof aioContextMachine>;

export function aioStart(from: string, to: string): AioSnapshot {
  return initialTransition(aioContextMachine, { from, to })[0];
}

export function aioNext(s: AioSnapshot, e: AioEvent): AioSnapshot {
  return transition(aioContextMachine, s, e)[0];
}

/** Whether a move found in this state must be rolled back (anything before the commit pass). */
export function aioRecovery(s: AioSnapshot): 'roll-back' | 'roll-forward' | 'none' {
  if (s.matches('done')) return 'none';
  if (s.matches('commit') || s.matches('clean')) return 'roll-forward';
  return 'roll-back';
}
