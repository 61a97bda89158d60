import path from 'node:path';
import { DEV_PORTS, startDevEnvironment, type DevEnvironment } from '../../dev/dev-environment.js';
import { createLogger } from '../../log.js';
import { startApp } from '../../server/app.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the sidecar on an embedded development default (npm start)';

const HELP = `usage: jwtexchange dev [--dir DIR]

Starts the sidecar with everything it talks to, on loopback: a dev PKI, a dev auth.service
(127.0.0.1:${DEV_PORTS.auth}), the reference token-exchange over mTLS (127.0.0.1:${DEV_PORTS.sts}),
the SpiceDB engine in-process, and the ext_authz server (gRPC 127.0.0.1:${DEV_PORTS.grpc}, HTTP
127.0.0.1:${DEV_PORTS.http}). Prints commands that show an allow and a deny.
  --dir DIR   where development keys and state live (default .dev)`;

function tryIt(env: DevEnvironment): string {
  const rel = path.relative(process.cwd(), env.dir) || '.';
  const gw = env.pki.clients.gateway!;
  const r = (p: string) => path.relative(process.cwd(), p);
  const x = 'npx jwtexchange';
  return `
jwtexchange (development default) is ready
  ext_authz gRPC    ${env.config.server.grpcAddress}
  health/metrics    http://${env.config.server.httpAddress}/readyz  /metrics
  token-exchange    ${env.sts.url}  (mTLS, dev PKI in ${rel}/pki)
  auth.service      ${env.devAuth.url}
  SpiceDB           embedded (examples/spicedb)

Try it from another terminal:
  # inbound: a verified token is allowed, and the app would get x-jwtauth-* headers
  ${x} check --authorization "Bearer $(${x} dev-token --dir ${rel})"
  # inbound: no token → 401
  ${x} check
  # inbound: a Teleport user with create_saga on cloud:cl0 (auth.service token, exchanged, then SpiceDB)
  ${x} check --method POST --path /v2/namespaces/cl0 \\
    --authorization "Bearer $(${x} dev-auth mint --url ${env.devAuth.url} --sub cloud-teleport-aleksander.rykalin)"
  # outbound: a saga-tagged route gets a service token for vmcontroller
  ${x} check --direction outbound --ext jwtexchange.audience=vmcontroller -H 'x-saga-id: s-1'
  # token-exchange directly, as the gateway
  ${x} token --sts ${env.sts.url} --cert ${r(gw.certFile)} --key ${r(gw.keyFile)} --ca ${r(env.pki.caFile)} --audience vmcontroller
`;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { dir: { type: 'string', default: '.dev' } }, HELP);
  if (!parsed) return 0;
  const logger = createLogger('info');
  const env = await startDevEnvironment(path.resolve(parsed.values.dir), logger);
  try {
    const app = await startApp(env.config, { logger });
    await app.whenReady();
    console.log(tryIt(env));
    return await runUntilSignal(app, logger);
  } finally {
    await env.close();
  }
}
