/**
 * The entry of dist/jwtexchange.mjs (scripts/bundle.ts): the CLI's main() for bin/jwtexchange.js
 * and, when node:cluster forks the bundle as a `server.workers` worker, that worker. The bundle
 * holds worker-main.ts like every other module, so the pool forks this very file.
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { forkWorkersFrom } from '../server/worker-entry.js';

export { main } from './main.js';

forkWorkersFrom(fileURLToPath(import.meta.url));

if (cluster.isWorker && process.env.JWTX_WORKER_CONFIG !== undefined) {
  await import('../server/worker-main.js');
}
