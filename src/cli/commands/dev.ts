import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  DEV_PORTS,
  listenErrorFor,
  startDevEnvironment,
  type DevEnvironment,
  type DevPorts,
} from '../../dev/dev-environment.js';
import { createLogger } from '../../log.js';
import { ListenError } from '../../net/address.js';
import { startApp } from '../../server/app.js';
import { ADDRESSES_FILE_HELP, writeAddressesFile } from '../addresses-file.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the sidecar on an embedded development default (npm start)';

const HELP = `usage: jwtexchange dev [--dir DIR] [--grpc-port P] [--http-port P] [--sts-port P] [--auth-port P]
                       [--addresses-file FILE]

Starts the sidecar with everything it talks to, on loopback: a dev PKI, a dev auth.service, the
reference token-exchange over mTLS, the SpiceDB engine in-process, and the ext_authz server.
Prints commands that show an allow and a deny, for the ports chosen.
  --dir DIR        where development keys and state live (default .dev)
  --grpc-port P    ext_authz gRPC (default ${DEV_PORTS.grpc})
  --http-port P    /healthz, /readyz, /metrics (default ${DEV_PORTS.http})
  --sts-port P     token-exchange, https (default ${DEV_PORTS.sts})
  --auth-port P    dev auth.service, http (default ${DEV_PORTS.auth})
${ADDRESSES_FILE_HELP}
All listen on 127.0.0.1. A second instance needs other ports and another --dir, e.g.
  npm start -- --dir .dev2 --grpc-port 19191 --http-port 19464 --sts-port 18443 --auth-port 18444`;

/** The commands `npm start` prints, for the addresses this environment really uses. */
export function tryIt(env: DevEnvironment, cwd = process.cwd()): string {
  const rel = path.relative(cwd, env.dir) || '.';
  const gw = env.pki.clients.gateway!;
  const r = (p: string) => path.relative(cwd, p);
  const x = 'npx jwtexchange';
  const check = `${x} check --server ${env.config.server.grpcAddress}`;
  return `
jwtexchange (development default) is ready
  ext_authz gRPC    ${env.config.server.grpcAddress}
  health/metrics    http://${env.config.server.httpAddress}/readyz  /metrics
  token-exchange    ${env.sts.url}  (mTLS, dev PKI in ${rel}/pki)
  auth.service      ${env.devAuth.url}
  SpiceDB           embedded (examples/spicedb)

Try it from another terminal (add --explain to any check to see every phase that ran):
  # inbound: a verified token is allowed, and the app would get x-jwtauth-* headers
  ${check} --authorization "Bearer $(${x} dev-token --dir ${rel})"
  # inbound: no token → 401
  ${check}
  # inbound: a Teleport user with create_saga on cloud:cl0 (auth.service token, exchanged, then SpiceDB)
  ${check} --explain --method POST --path /v2/namespaces/cl0 \\
    --authorization "Bearer $(${x} dev-auth mint --url ${env.devAuth.url} --sub cloud-teleport-aleksander.rykalin)"
  # outbound: a saga-tagged route gets a service token for vmcontroller
  ${check} --direction outbound --ext jwtexchange.audience=vmcontroller -H 'x-saga-id: s-1'
  # token-exchange directly, as the gateway
  ${x} token --sts ${env.sts.url} --cert ${r(gw.certFile)} --key ${r(gw.keyFile)} --ca ${r(env.pki.caFile)} --audience vmcontroller
`;
}

/** The four ports from flags; a message when one is not a port number. */
export function devPorts(values: Record<keyof DevPorts, string | undefined>): DevPorts | string {
  const ports: Record<string, number> = {};
  for (const key of Object.keys(DEV_PORTS) as (keyof DevPorts)[]) {
    const raw = values[key];
    const port = raw === undefined ? DEV_PORTS[key] : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      return `--${key}-port must be a port number (1-65535), got ${JSON.stringify(raw)}`;
    }
    ports[key] = port;
  }
  return ports as DevPorts;
}

/** The --dir for keys and state, created if needed; refused with a clear reason if unusable. */
function usableDir(dir: string): string {
  const abs = path.resolve(dir);
  try {
    mkdirSync(abs, { recursive: true, mode: 0o700 });
    accessSync(abs, constants.W_OK);
    return abs;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`cannot use --dir ${abs} (${why}): give a directory this user can write`, {
      cause: err,
    });
  }
}

/** A sidecar listener that could not bind, named by the flag that sets its port. */
function byFlag(err: unknown, ports: DevPorts): unknown {
  if (!(err instanceof ListenError)) return err;
  if (err.setting === 'server.grpcAddress') return listenErrorFor(err, '--grpc-port', ports.grpc);
  if (err.setting === 'server.httpAddress') return listenErrorFor(err, '--http-port', ports.http);
  return err;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      dir: { type: 'string', default: '.dev' },
      'grpc-port': { type: 'string' },
      'http-port': { type: 'string' },
      'sts-port': { type: 'string' },
      'auth-port': { type: 'string' },
      'addresses-file': { type: 'string' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const ports = devPorts({
    grpc: v['grpc-port'],
    http: v['http-port'],
    sts: v['sts-port'],
    auth: v['auth-port'],
  });
  if (typeof ports === 'string') {
    console.error(`jwtexchange dev: ${ports}`);
    return 2;
  }
  const logger = createLogger('info');
  const env = await startDevEnvironment(usableDir(v.dir), logger, ports);
  let removeAddresses = () => undefined as void;
  try {
    const app = await startApp(env.config, { logger }).catch((err: unknown) => {
      throw byFlag(err, ports);
    });
    try {
      await app.whenReady();
    } catch (err) {
      await app.shutdown();
      throw err;
    }
    console.log(tryIt(env));
    removeAddresses = writeAddressesFile(v['addresses-file'], {
      grpc: env.config.server.grpcAddress,
      http: env.config.server.httpAddress,
      sts: env.sts.url,
      auth: env.devAuth.url,
    });
    return await runUntilSignal(app, logger);
  } finally {
    removeAddresses();
    await env.close();
  }
}
