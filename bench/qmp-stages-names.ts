// The stages bench/qmp-stages-preload.ts stamps, in path order (shared with bench/qmp-stages.ts).
/** Stage names, in path order; a request's stamps are indexed by these. */
export const STAGES = [
  'data', // the socket's 'data' event reaches the session (QmpSession.onData)
  'parsed', // the JSON reader hands on the message (lexer + parser done)
  'backend', // the session hands the request to the backend (ServedStore.execute)
  'engine', // the engine's command starts (Engine.run: after the queues' hops)
  'append', // the model, digest and record objects done: EventLog.appendNow called
  'batch', // the record encoded: classic-level's _batch called (abstract-level's checks done)
  'handed', // _batch returned: the batch is on libuv's pool (fsync running)
  'appended', // appendNow returned (the parse-back done)
  'folded', // Engine.run returned (fold + snapshot slice done)
  'synced', // the batch's promise resolved (the fsync done, back on the main thread)
  'reply', // the session writes the reply (QmpSession.reply)
  'writev', // the socket's _write/_writev (uncorked at the end of the tick)
  'written', // the reply's write callback
] as const;
