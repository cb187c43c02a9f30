// engine/: the live writer. Runs a command on the model (commands/), writes its transaction
// to the log as the protocol says, folds it, publishes committed records; recovers on open.
// May import commands/, graph/, events/, replay/ (the fold), store/; never qmp/, oracle/ or cli/.
export { Engine, DEFAULT_SNAPSHOT_EVERY, FIXED_CLOCK, loadFold, type EngineOptions } from './engine.js';
