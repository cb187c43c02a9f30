export { Engine, FIXED_CLOCK, loadFold, type EngineOptions } from './engine.js';
