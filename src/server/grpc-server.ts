import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { leanAuthorizationService } from '../envoy/server-codec.js';
import type { createCheckHandler } from '../check/handler.js';
import { HealthService } from './health-service.js';

const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';

export interface GrpcServer {
  readonly server: Server;
  readonly health: HealthService;
  readonly port: number;
}

/**
 * ext_authz and grpc.health.v1 (health-service.ts) on one listener (plaintext: the sidecar talks
 * over loopback); health says NOT_SERVING until setServing(true).
 * `service` defaults to the lean codec (server-codec.ts); the bench's bare ceiling passes the
 * generic proto-loader definition.
 */
export async function startGrpcServer(
  address: string,
  check: ReturnType<typeof createCheckHandler>,
  service: ServiceDefinition = leanAuthorizationService(),
): Promise<GrpcServer> {
  const server = new Server({
    // Envoy keeps one long-lived HTTP/2 connection; let it ping, and cap message sizes.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    // Per-connection HTTP/2 memory (MB) before new streams are refused: Envoy multiplexes every
    // check of a worker thread over one connection, and a burst must not be refused by Node's
    // 10 MB default.
    'grpc-node.max_session_memory': 64,
    // channelz (grpc-js's call and socket statistics, served only to a channelz client, which
    // the sidecar never registers) costs every call its trackers and timestamps.
    'grpc.enable_channelz': 0,
  });
  server.addService(service, { Check: check });
  const health = new HealthService({
    '': 'NOT_SERVING',
    [AUTHORIZATION_SERVICE_NAME]: 'NOT_SERVING',
  });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, health, port };
}

export function setServing(health: HealthService, serving: boolean): void {
  const status = serving ? 'SERVING' : 'NOT_SERVING';
  health.setStatus('', status);
  health.setStatus(AUTHORIZATION_SERVICE_NAME, status);
}
