/**
 * The ceiling: the same gRPC listener as the real server (startGrpcServer: src/grpc/h2-server.ts,
 * same options, health service included) with a handler that does no work and answers one fixed
 * OK CheckResponse shaped like a real inbound allow. argv[3] picks the codec: `generic` (default:
 * proto-loader's full decode and encode) or `lean` (the real server's own codec,
 * src/envoy/server-codec.ts, to show what is left of the transport itself). grpc-js's own server,
 * the ceiling issue 13 named, is bare-grpcjs-server.ts. Run as a child process with an IPC
 * channel: it sends {type:'ready', port} and answers {type:'stats'} with the number of calls served.
 */
import { authorizationService } from '../../src/envoy/proto.js';
import { leanAuthorizationService } from '../../src/envoy/server-codec.js';
import { setServing, startGrpcServer } from '../../src/server/grpc-server.js';
import { FIXED_ALLOW } from './fixed-allow.js';
import { reportToParent } from './parent-channel.js';

let calls = 0;

const service = process.argv[3] === 'lean' ? leanAuthorizationService() : authorizationService();
const grpc = await startGrpcServer(
  process.argv[2] ?? '127.0.0.1:0',
  (_call, callback) => {
    calls++;
    callback(null, FIXED_ALLOW);
  },
  { service },
);
setServing(grpc.health, true);

reportToParent(
  grpc.port,
  () => calls,
  () => grpc.server.tryShutdown(() => process.exit(0)),
);
