import type { createCheckHandler } from '../check/handler.js';
import { leanAuthorizationService } from '../envoy/server-codec.js';
import type { ServiceMethods } from '../grpc/calls.js';
import { H2GrpcServer, type H2GrpcServerOptions } from '../grpc/h2-server.js';
import { HealthService } from './health-service.js';

const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';

export interface GrpcServer {
  readonly server: H2GrpcServer;
  readonly health: HealthService;
  readonly port: number;
}

export interface GrpcServerOptions {
  /** The Check method's codec: the lean one by default; the bench's ceiling passes the generic. */
  readonly service?: ServiceMethods;
  /** Told of each HTTP/2 error the listener sends (the transport-errors metric). */
  readonly onProtocolError?: H2GrpcServerOptions['onProtocolError'];
}

/**
 * ext_authz and grpc.health.v1 (health-service.ts) on one listener (plaintext: the sidecar talks
 * over loopback), served by our own gRPC server (src/grpc/h2-server.ts) on our own HTTP/2
 * (src/h2/); health says NOT_SERVING until setServing(true).
 */
export async function startGrpcServer(
  address: string,
  check: ReturnType<typeof createCheckHandler>,
  options: GrpcServerOptions = {},
): Promise<GrpcServer> {
  const server = new H2GrpcServer({
    maxMessageBytes: 4 * 1024 * 1024,
    // Envoy multiplexes every check of a worker thread over one connection and opens another
    // when a connection is full; 1,024 open checks per connection is far past any healthy load.
    maxConcurrentCalls: 1024,
    // Bodies of checks still arriving are held against this window: eight 4 MiB requests at once.
    connectionWindowBytes: 32 * 1024 * 1024,
    onProtocolError: options.onProtocolError,
  });
  server.addService(options.service ?? leanAuthorizationService(), { Check: check });
  const health = new HealthService({
    '': 'NOT_SERVING',
    [AUTHORIZATION_SERVICE_NAME]: 'NOT_SERVING',
  });
  health.addToServer(server);
  const port = await server.listen(address, 'server.grpcAddress');
  return { server, health, port };
}

export function setServing(health: HealthService, serving: boolean): void {
  const status = serving ? 'SERVING' : 'NOT_SERVING';
  health.setStatus('', status);
  health.setStatus(AUTHORIZATION_SERVICE_NAME, status);
}
