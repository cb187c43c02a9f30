import { MemoryLevel } from 'memory-level';
import { EventLog } from '../../store/event-log.js';
import { type Backend, storeConformance } from './conformance.js';

// One MemoryLevel per backend: memory-level keeps its data across close/open, so "reopen" and
// "damage the raw db" behave as they do on disk.
const memory = async (): Promise<Backend> => {
  const db = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
  const logs: EventLog[] = [];
  return {
    async open(opts) {
      const log = await EventLog.open(db, opts);
      logs.push(log);
      return log;
    },
    async raw() {
      await db.open();
      return db;
    },
    async dispose() {
      for (const l of logs) await l.close();
      await db.close();
    },
  };
};

storeConformance('memory', memory);
// The same suite with every record in frame 2 (version 2: compact header, link to the previous hash).
storeConformance('memory frame 2', memory, { v: 2 });
