import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from '../../test/helpers/ports.js';
import { logTail, spawnLogged, stopChild, unlessExited } from './child.js';
import { BENCH_DIR, CLI } from './paths.js';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.js';
import { serverEnv } from './server-env.js';
import { parsePromText, sumSamples } from './prom-text.js';
import type { CheckTransport } from './envoy-setup.js';
import type { ServerMessage, ServerStats } from './server-protocol.js';

/**
 * The servers under test. Each runs in its own process, so the load generator (another process)
 * and the server compete for the 2 cores only as they would in a pod, never inside one event loop.
 */
export interface ServerUnderTest {
  readonly name: string;
  /**
   * host:port of the ext_authz gRPC listener (h2c); for the HTTP-only bare server (bare-http),
   * its HTTP listener.
   */
  readonly address: string;
  /** host:port of the ext_authz HTTP listener (server.httpCheckAddress), where there is one. */
  readonly httpCheckAddress?: string;
  readonly logFile: string;
  /** The server's process id (its workers are its children). */
  readonly pid: number;
  /**
   * false when the server keeps no decision counters (the OPA reference): the answers are then
   * counted by the load generator alone, which must read every one (h2-cycler).
   */
  readonly countsDecisions?: boolean;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/**
 * The bare ceilings: the sidecar's gRPC listener with the generic or the lean codec, grpc-js's
 * own server (`grpcjs`), the HTTP check listener, or node:http2 without gRPC framing (`h2`). Each
 * runs a script of bench/servers/ with the address to listen on, then its own arguments.
 */
export type BareKind = 'generic' | 'lean' | 'grpcjs' | 'http' | 'h2';
const server = (file: string) => path.join(BENCH_DIR, 'servers', file);
const BARE: Record<BareKind, { name: string; script: string; args: string[] }> = {
  generic: { name: 'bare', script: server('bare-server.ts'), args: ['generic'] },
  lean: { name: 'bare-lean', script: server('bare-server.ts'), args: ['lean'] },
  grpcjs: { name: 'bare-grpcjs', script: server('bare-grpcjs-server.ts'), args: [] },
  http: { name: 'bare-http', script: server('bare-http-server.ts'), args: [] },
  h2: { name: 'bare-h2', script: server('bare-h2-server.ts'), args: [] },
};

function nextMessage<T extends ServerMessage['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (m: ServerMessage) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m as Extract<ServerMessage, { type: T }>);
    };
    child.on('message', onMessage);
  });
}

/** The port of the listener Envoy's ext_authz cluster points at, for a transport. */
export function checkPort(s: ServerUnderTest, transport: CheckTransport): number {
  return Number((transport === 'http' ? s.httpCheckAddress! : s.address).split(':').at(-1));
}

/** Experiments only (bench/README.md): e.g. --trace-gc, or V8 heap flags to compare. */
function benchNodeFlags(): string[] {
  return process.env.JWTX_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
}

/**
 * A bare ceiling: the sidecar's gRPC listener (bench/servers/bare-server.ts) with the generic or the lean
 * codec, the HTTP one (bench/servers/bare-http-server.ts) or node:http2 alone
 * (bench/servers/bare-h2-server.ts).
 */
export async function startBareServer(
  logFile: string,
  nodeFlags: readonly string[] = [],
  kind: BareKind = 'generic',
  cpus?: string,
): Promise<ServerUnderTest> {
  const { name, script, args } = BARE[kind];
  const child = spawnLogged(
    [...nodeFlags, ...benchNodeFlags(), '--import', 'tsx', script, '127.0.0.1:0', ...args],
    logFile,
    { ipc: true, cpus, env: serverEnv() },
  );
  const ready = nextMessage(child, 'ready');
  const { port } = await unlessExited(child, name, ready).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(logFile)}`);
  });
  const address = `127.0.0.1:${port}`;
  return {
    name,
    address,
    ...(kind === 'http' ? { httpCheckAddress: address } : {}),
    logFile,
    pid: child.pid!,
    async stats() {
      // A server that died under load makes its case FAILED (with why), not the whole run.
      const dead = () => new Error(`${name} is not running\n${logTail(logFile)}`);
      if (!child.connected) throw dead();
      const reply = nextMessage(child, 'stats');
      await new Promise<void>((resolve, reject) =>
        child.send({ type: 'stats' }, (err) => (err ? reject(dead()) : resolve())),
      );
      return (await unlessExited(child, name, reply)).stats;
    },
    stop: () => stopChild(child),
  };
}

export interface AppServerOptions {
  readonly name: string;
  /** Config document without `server` (addresses are chosen here). */
  readonly config: Record<string, unknown>;
  readonly workDir: string;
  readonly logFile: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  /** Pin the server (and its workers) to these CPUs (taskset list, e.g. "0"). */
  readonly cpus?: string | undefined;
  /** `server.workers` (default 1: one process, as the per-core cases need). */
  readonly workers?: number | 'auto';
  /** Extra `server` settings. */
  readonly server?: Record<string, unknown>;
}

/** The real server: `jwtexchange serve --config` from dist/, exactly as deployed. */
export async function startAppServer(options: AppServerOptions): Promise<ServerUnderTest> {
  const configFile = path.join(options.workDir, `${options.name}.yaml`);
  const addressesFile = path.join(options.workDir, `${options.name}.addresses.json`);
  rmSync(addressesFile, { force: true });
  // Port 0: the server binds what is free and reports it in --addresses-file.
  const document = {
    ...options.config,
    server: {
      grpcAddress: '127.0.0.1:0',
      httpCheckAddress: '127.0.0.1:0',
      httpAddress: '127.0.0.1:0',
      workers: options.workers ?? 1,
      ...options.server,
    },
  };
  writeFileSync(configFile, stringify(document));
  const child = spawnLogged(
    // As the container image runs it (Dockerfile: ENTRYPOINT, and jemalloc in serverEnv).
    [
      ...SERVER_NODE_FLAGS,
      ...(options.nodeFlags ?? []),
      ...benchNodeFlags(),
      CLI,
      'serve',
      '--config',
      configFile,
      '--addresses-file',
      addressesFile,
    ],
    options.logFile,
    { cpus: options.cpus, env: serverEnv() },
  );
  const ready = (async () => {
    const bound = await waitFor(
      () =>
        existsSync(addressesFile) &&
        (JSON.parse(readFileSync(addressesFile, 'utf8')) as {
          grpc: string;
          httpCheck: string;
          http: string;
        }),
      `${options.name} to listen`,
      60_000,
    );
    await waitFor(
      async () => (await fetch(`http://${bound.http}/readyz`)).status === 200,
      `${options.name} /readyz`,
      60_000,
    );
    return bound;
  })();
  const {
    grpc: grpcAddress,
    httpCheck: httpCheckAddress,
    http: httpAddress,
  } = await unlessExited(child, options.name, ready).catch(async (err: Error) => {
    await stopChild(child);
    throw new Error(`${err.message}\n${logTail(options.logFile)}`);
  });
  const http = `http://${httpAddress}`;
  return {
    name: options.name,
    address: grpcAddress,
    httpCheckAddress,
    logFile: options.logFile,
    pid: child.pid!,
    async stats() {
      const samples = parsePromText(await (await fetch(`${http}/metrics`)).text());
      const checks = 'jwtexchange_checks_total';
      return {
        ok:
          sumSamples(samples, checks, { decision: 'allow' }) +
          sumSamples(samples, checks, { decision: 'dry_run' }),
        denied: sumSamples(samples, checks, { decision: 'deny' }),
        samples,
      };
    },
    stop: () => stopChild(child),
  };
}

/** Runs fn against a started server and always stops it (its log stays in bench/results/). */
export async function withServer<T>(
  starting: Promise<ServerUnderTest>,
  fn: (server: ServerUnderTest) => Promise<T>,
): Promise<T> {
  const server = await starting;
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
