// Public API of the oracle toolkit: transcript format, normalization, comparison, recording.
export * from './format.js';
export * from './normalize.js';
export * from './compare.js';
export * from './harness.js';
