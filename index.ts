// blockgraph's library API. Each folder's index is its public surface.
export * from './errors/index.js';
export * from './events/index.js';
export * from './graph/index.js';
export * from './machines/index.js';
export * from './store/index.js';
export * from './replay/index.js';
export * from './commands/index.js';
export * from './engine/index.js';
export * from './qmp/index.js';
export * as oracle from './oracle/index.js';
export { runOnModel, spawnQsd, qsdAvailable, createImagesWithQemuImg, createModelImages, MODEL_VERSION } from './oracle/index.js';
