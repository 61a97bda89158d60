/**
 * Entry of a worker process (`server.workers` > 1; forked by worker-pool.ts through node:cluster).
 * It loads the primary's configuration file and runs the ext_authz server on the shared gRPC
 * port; service tokens come from the primary, readiness and metrics go to it, and it stops when
 * the primary says drain (signals are the primary's to handle) or when the primary is gone.
 */
import cluster from 'node:cluster';
import { systemClock } from '../clock.js';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../log.js';
import { SidecarMetrics } from '../metrics/sidecar.js';
import { RemoteServiceTokens } from '../tokens/remote-service-tokens.js';
import { startApp, type RunningApp } from './app.js';
import { isPrimaryMessage, type WorkerMessage } from './worker-messages.js';

const send = (m: WorkerMessage) => process.send?.(m);

const config = loadConfigFile(process.env.JWTX_WORKER_CONFIG ?? '');
const logger = createLogger(config.log.level).child({ worker: cluster.worker?.id ?? 0 });
const metrics = new SidecarMetrics();
const running: { app?: RunningApp } = {};
const tokens = new RemoteServiceTokens({
  clock: systemClock,
  channel: { request: (id, key) => send({ jwtx: 'token-request', id, key }) },
  servedStale: (audience) => metrics.serviceTokenServedStale.inc({ audience }),
  changed: () => running.app?.readiness.recheck(),
});

process.on('message', (m: unknown) => {
  if (!isPrimaryMessage(m)) return;
  switch (m.jwtx) {
    case 'service-token':
      return tokens.store(m.token);
    case 'token-reply':
      return tokens.reply(m.id, m.token, m.error);
    case 'metrics-request':
      void metrics.registry
        .getMetricsAsJSON()
        .then((json) => send({ jwtx: 'metrics-reply', id: m.id, metrics: json }));
      return;
    case 'drain':
      void drain();
  }
});
send({ jwtx: 'hello' });
// The primary coordinates shutdown; a signal sent to the whole process group (Ctrl-C) must not
// stop a worker before the primary has told it to drain.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
process.on('disconnect', () => {
  tokens.close();
  logger.error('the primary process is gone; exiting');
  process.exit(1);
});

let draining: Promise<void> | undefined;
function drain(): Promise<void> {
  draining ??= (running.app?.shutdown() ?? Promise.resolve()).then(() => {
    process.disconnect();
    process.exit(0);
  });
  return draining;
}

const app = await startApp(config, { logger, metrics, worker: { tokens } }).catch(
  (err: unknown): Promise<never> =>
    // The primary stops the pod's start with this reason; a port taken is not retried.
    new Promise(() =>
      process.send!({ jwtx: 'start-failed', message: (err as Error).message }, () =>
        process.exit(1),
      ),
    ),
);
running.app = app;
const report = () => {
  const r = app.readiness.report();
  send({ jwtx: 'readiness', ready: r.ready, gates: r.gates });
};
app.readiness.onChange(report);
send({ jwtx: 'listening', ports: { grpcPort: app.grpcPort, httpCheckPort: app.httpCheckPort } });
