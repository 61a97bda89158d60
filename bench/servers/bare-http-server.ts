/**
 * The HTTP ceiling: the real server's ext_authz HTTP listener (createHttpCheckServer: same
 * node:http options, the same conversion of each answer to Envoy's HTTP form) with a runner that
 * decides nothing. Like the gRPC bare server decoding each CheckRequest, it reads each request
 * into CheckRequest fields as the real server does (src/envoy/http-check-request.ts), then
 * answers the fixed allow of fixed-allow.ts: a 200 with the same identity headers. Run as a
 * child process with an IPC channel (parent-channel.ts); argv[2] is the address to listen on.
 */
import type { CheckRunner } from '../../src/check/check-runner.js';
import { createLogger } from '../../src/log.js';
import { createHttpCheckServer } from '../../src/server/http-check-server.js';
import { FIXED_ALLOW } from './fixed-allow.js';
import { listenForParent } from './parent-channel.js';

let calls = 0;

const fixedRunner: CheckRunner = (call, reply) => {
  calls++;
  if (typeof call.request === 'function') call.request();
  reply(FIXED_ALLOW, undefined);
};

// The real server's default server.httpCheckTimeoutMs; the fixed answer never comes near it.
const server = createHttpCheckServer(fixedRunner, { timeoutMs: 1_000, logger: createLogger() });
await listenForParent(
  server,
  () => calls,
  () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  },
);
