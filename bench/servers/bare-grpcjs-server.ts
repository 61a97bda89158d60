/**
 * The ceiling issue 13 named: a bare grpc-js server (grpc-js's Server with the options the
 * sidecar's listener had before it moved to src/grpc/h2-server.ts, and proto-loader's full
 * decode and encode, as any grpc-js ext_authz server does) answering one fixed OK CheckResponse.
 * A reference only: the warm goal divides by `bare`, the sidecar's own listener doing no work.
 * Run as a child process with an IPC channel, like bare-server.ts.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { authorizationService } from '../../src/envoy/proto.js';
import { FIXED_ALLOW } from './fixed-allow.js';
import { reportToParent } from './parent-channel.js';

let calls = 0;
const server = new Server({
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc-node.max_session_memory': 64,
  'grpc.enable_channelz': 0,
});
server.addService(authorizationService(), {
  Check: (_call: unknown, callback: (err: null, value: unknown) => void) => {
    calls++;
    callback(null, FIXED_ALLOW);
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync(
    process.argv[2] ?? '127.0.0.1:0',
    ServerCredentials.createInsecure(),
    (err, p) => (err ? reject(err) : resolve(p)),
  ),
);

reportToParent(
  port,
  () => calls,
  () => server.tryShutdown(() => process.exit(0)),
);
