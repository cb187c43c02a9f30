// Where a command's store is (a LevelDB directory or nats://…/FLEET/HOST): store/jetstream/location.ts.
export { openStoreAt } from '../store/jetstream/location.js';
