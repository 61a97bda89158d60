/**
 * The ceiling: the same grpc-js listener as the real server (startGrpcServer: same options,
 * health service included) with a handler that does no work and answers one fixed OK
 * CheckResponse shaped like a real inbound allow. argv[3] picks the codec: `generic` (default:
 * grpc-js with proto-loader's full decode and encode, as any grpc-js ext_authz server does — the
 * ceiling the issue names) or `lean` (the real server's own codec, src/envoy/server-codec.ts, to
 * show what is left of the transport itself). Run as a child process with an IPC channel: it
 * sends {type:'ready', port} and answers {type:'stats'} with the number of calls served.
 */
import { allow } from '../../src/check/decision.js';
import { toCheckResponse } from '../../src/check/response.js';
import { authorizationService } from '../../src/envoy/proto.js';
import { leanAuthorizationService } from '../../src/envoy/server-codec.js';
import { setServing, startGrpcServer } from '../../src/server/grpc-server.js';
import type { ServerMessage } from '../lib/server-protocol.js';

const CLAIMS = {
  iss: 'https://dev-issuer.jwtexchange.local',
  sub: 'bench-user',
  aud: 'gateway',
  iat: 1_700_000_000,
  exp: 1_700_003_600,
  jti: '00000000-0000-4000-8000-000000000000',
};

const FIXED = toCheckResponse(
  allow(
    'allowed',
    [
      ['x-jwtauth-subject', CLAIMS.sub],
      ['x-jwtauth-issuer', CLAIMS.iss],
      ['x-jwtauth-kind', 'user'],
      ['x-jwtauth-claims', Buffer.from(JSON.stringify(CLAIMS)).toString('base64url')],
    ],
    [],
  ),
  undefined,
);

let calls = 0;

const service = process.argv[3] === 'lean' ? leanAuthorizationService() : authorizationService();
const grpc = await startGrpcServer(
  process.argv[2] ?? '127.0.0.1:0',
  (_call, callback) => {
    calls++;
    callback(null, FIXED);
  },
  service,
);
setServing(grpc.health, true);

const send = (m: ServerMessage) => process.send?.(m);
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stats') send({ type: 'stats', stats: { ok: calls, denied: 0, samples: [] } });
});
process.on('SIGTERM', () => grpc.server.tryShutdown(() => process.exit(0)));
// The orchestrator died or let go of us: do not linger as an orphan holding a port.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port: grpc.port });
