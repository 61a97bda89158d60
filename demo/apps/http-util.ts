import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Tiny HTTP helpers shared by the demo apps (they exist to demonstrate the sidecar, not HTTP). */
export type Handler = (
  req: http.IncomingMessage,
  body: unknown,
) => Promise<{ status: number; body: unknown }>;

export function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch {
        resolve(undefined);
      }
    });
  });
}

export async function serveJson(
  port: number,
  handler: Handler,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void readJson(req)
      .then((body) => handler(req, body))
      .catch((err: unknown) => ({ status: 500, body: { error: (err as Error).message } }))
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
  });
  // The apps sit behind Envoy, which keeps upstream connections open for an hour: never close
  // an idle one under it (Node's 5 s keep-alive timeout races Envoy's next request: a 503).
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** POST (or GET without a body) with explicit headers, Host included (fetch forbids setting it). */
export function requestJson(
  url: string,
  options: {
    method?: 'GET' | 'POST';
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? (payload ? 'POST' : 'GET'),
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
        timeout: options.timeoutMs ?? 5_000,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          let body: Record<string, unknown>;
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  requestJson(url, { method: 'POST', body, headers });
