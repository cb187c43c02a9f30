export { planReopen, type ReopenPlan, type ReopenPlanStep } from './plan.js';
export { reopen, buildQueue, dependencyOrder } from './run.js';
export { ReopenQueue, type QueueEntry } from './queue.js';
export { tdbHash, bucketOf, qdictKeys, flatten } from './qdict.js';
