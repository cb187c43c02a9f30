// oracle/fuzz: the live differential fuzzer (generator over the current graph, runner on
// qemu-storage-daemon and the model, ddmin shrinker) and the known-disagreements list.
export { fuzz, formatReport, formatProgress, CATEGORIES, type FuzzOptions, type FuzzReport, type DistinctFinding } from './fuzz.js';
export { runCase, runFixed, recordOnQsd, checkModel, firstDisagreement, ImageCache, type Finding, type Category, type CaseOutcome } from './run-case.js';
export { shrink, closeDependencies, sameFinding } from './shrink.js';
export { loadKnown, matchKnown, maskNames, findingKey, KNOWN_FILE, type KnownDisagreements, type KnownFuzz, type KnownIotest } from './known.js';
export { knownAbort } from './aborts.js';
export { queryBreaks } from './query-breaks.js';
export { Generator, FUZZ_IMAGES } from './grammar.js';
export { World, ProcView } from './world.js';
export { Rng, caseSeed } from './rng.js';
