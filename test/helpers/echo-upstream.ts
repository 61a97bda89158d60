import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { registerToken } from './run-logs.js';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly protocol: 'http/1.1' | 'h2';
}

export interface EchoUpstream {
  readonly port: number;
  readonly seen: SeenRequest[];
  /** gRPC requests are answered with grpc-status 0 and an empty message. */
  close(): Promise<void>;
}

const H2_PREFACE = 'PRI * HTTP/2.0';

/**
 * An upstream app for e2e tests: records exactly what reached it, on HTTP/1.1 or h2c (detected
 * from the connection preface), and answers 200 with the headers it saw.
 */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const seen: SeenRequest[] = [];
  // Tokens the sidecar handed the app (injected, exchanged) are secrets for the leak check too.
  const record = (r: SeenRequest): void => {
    const auth = r.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
      registerToken('token that reached the upstream', auth.slice(7));
    }
    seen.push(r);
  };
  const h1 = http.createServer((req, res) => {
    record({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      protocol: 'http/1.1',
    });
    req.resume();
    req.on('end', () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ headers: req.headers })),
    );
  });
  // Never close an idle keep-alive connection: Envoy may be sending on it at that very moment
  // (on a busy machine the gap between two requests easily passes Node's 5 s default), and the
  // request would be reset with a 503. Envoy closes its connections itself.
  h1.keepAliveTimeout = 0;
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    record({
      method: String(headers[':method']),
      path: String(headers[':path']),
      headers: headers as Record<string, string>,
      protocol: 'h2',
    });
    stream.resume();
    if (String(headers['content-type'] ?? '').startsWith('application/grpc')) {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    } else {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ headers }));
    }
  });
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('readable', () => {
      const head = socket.read(H2_PREFACE.length) as Buffer | null;
      if (head) socket.unshift(head);
      (head?.toString('latin1') === H2_PREFACE ? h2 : h1).emit('connection', socket);
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  return {
    port: (front.address() as net.AddressInfo).port,
    seen,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        front.close(() => r());
      }),
  };
}
