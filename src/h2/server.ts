import { createServer, type Server } from 'node:net';
import { H2Connection, type H2ConnectionOptions } from './connection.js';
import type { H2Stream } from './stream.js';

/**
 * An HTTP/2 server over cleartext TCP or a unix socket, prior knowledge only (RFC 9113 §3.3): the
 * ext_authz listener's peer is Envoy's gRPC client, which speaks HTTP/2 from the first byte.
 * `close` sends GOAWAY on every connection and calls back once they have all ended.
 */
export class H2Server {
  readonly net: Server;
  private readonly connections = new Set<H2Connection>();

  constructor(options: H2ConnectionOptions, onStream: (stream: H2Stream) => void) {
    this.net = createServer((socket) => {
      const connection = new H2Connection(socket, options, onStream);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** Stops accepting; GOAWAY on every connection; `done` once the last one has ended. */
  close(done?: () => void): void {
    this.net.close(() => done?.());
    for (const connection of this.connections) connection.shutdown();
  }

  /** Cuts every connection now. */
  destroy(): void {
    this.net.close();
    for (const connection of this.connections) connection.destroy();
  }
}
