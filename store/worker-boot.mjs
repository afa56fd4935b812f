// Starts a TypeScript worker: registers tsx's loader inside the worker thread, then imports the entry.
// (Node 20 does not pass the parent's module hooks on to workers.)
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
