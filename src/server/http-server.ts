import http from 'node:http';
import type { Logger } from '../log.js';
import type { Readiness } from '../readiness.js';

/** /healthz (process is alive), /readyz (ready to decide), /metrics (Prometheus text format). */
export function createHttpServer(
  readiness: Pick<Readiness, 'report'>,
  /** The registry (SidecarMetrics, TokenExchangeMetrics), or the primary's view of the whole pod (cluster-metrics.ts). */
  metrics: { readonly registry: { metrics(): Promise<string>; readonly contentType: string } },
  logger: Logger,
): http.Server {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      const report = readiness.report();
      res
        .writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(report) + '\n');
    } else if (url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) =>
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        )
        .catch((err: unknown) => {
          logger.error('metrics collection failed', { error: err as Error });
          res.writeHead(500).end();
        });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return server;
}
