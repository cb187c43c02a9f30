// `npm run fleet:cluster`: a local 3-node JetStream cluster on loopback ports for trying the
// fleet commands. Prints the fleet URL; Ctrl-C stops the servers and removes their store dirs.
import { NatsCluster } from '../testing/nats-cluster.js';

const c = await NatsCluster.start();
console.log(`3-node JetStream cluster up (store dirs under ${c.dir})`);
console.log(`fleet URL: ${c.url('demo')}`);
console.log(`try: blockgraph qmp --store ${c.url('demo', 'host1')}`);
console.log('Ctrl-C to stop');
await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
await c.stop();
