import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v1 } from '@authzed/authzed-node';
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ZedClient } from '../../src/spicedb/client.js';
import {
  parseRelationship,
  parseRelationships,
  relationshipLines,
  touchAll,
} from '../../src/spicedb/relationship-text.js';
import { parse, stringify } from 'yaml';
import { toCheckRequest } from '../../src/spicedb/permission-checker.js';
import { indexSchema } from '../../src/spicedb/schema-text.js';
import { tlsChannel } from '../../src/spicedb/tls-channel.js';
import { untilAnswered, untilVisible } from '../../src/spicedb/visible.js';
import { reservePort, waitFor, type ReservedPort } from './ports.js';
import { unlessExited } from './processes.js';
import { registerSecret } from './run-logs.js';
import { ROOT, tool } from './tools.js';

export const EXAMPLE_SCHEMA = readFileSync(path.join(ROOT, 'examples/spicedb/schema.zed'), 'utf8');
export const EXAMPLE_RELATIONSHIPS = readFileSync(
  path.join(ROOT, 'examples/spicedb/relationships.txt'),
  'utf8',
);

/** The rules of examples/spicedb/authorization.yaml, the documented example, by name. */
const EXAMPLE_RULES = (
  parse(readFileSync(path.join(ROOT, 'examples/spicedb/authorization.yaml'), 'utf8')) as {
    authorization: { rules: { name: string }[] };
  }
).authorization.rules;

/** One rule of the documented example (a fresh copy), for a test's authorization section. */
export function exampleRule(name: string): Record<string, unknown> {
  const rule = EXAMPLE_RULES.find((r) => r.name === name);
  if (!rule) throw new Error(`examples/spicedb/authorization.yaml has no rule ${name}`);
  return structuredClone(rule);
}

export interface SpiceDbOptions {
  /** Schema written at every start (default: examples/spicedb/schema.zed). */
  readonly schema?: string;
  /** Relationships written at every start, as text lines (default: none). */
  readonly relationships?: string;
  readonly presharedKey?: string;
  /**
   * Serve gRPC over TLS with this PEM certificate and key; `ca` (PEM) is what the client trusts.
   * `name`: the name the certificate carries, when it does not name 127.0.0.1 (this helper's own
   * client then expects that name).
   */
  readonly tls?: {
    readonly cert: string;
    readonly key: string;
    readonly ca: string;
    readonly name?: string;
  };
}

export interface RunningSpiceDb {
  /** host:port of the gRPC API (plaintext, loopback). */
  readonly endpoint: string;
  readonly presharedKey: string;
  /** A plaintext client that sends the preshared key. */
  readonly client: ZedClient;
  /**
   * TOUCHes relationships (text lines); they are rewritten after a restart. Returns the ZedToken
   * once a minimize_latency check sees the write (see src/spicedb/visible.ts), unless
   * `visible: false` (a test of ZedToken freshness wants the stale window).
   */
  write(relationships: string, options?: { visible?: boolean }): Promise<string>;
  /** Stops the server (the memory datastore is lost). */
  stop(): Promise<void>;
  /** Starts it again on the same ports, the schema and every relationship written loaded first. */
  start(): Promise<void>;
  logs(): string;
  /** Gives its port back (stopSpiceDb does this). */
  release(): void;
}

const md = () => new Metadata();

/** Which port it failed to bind, when `spicedb serve` exits because the port is taken. */
class PortTaken extends Error {}

/**
 * A real `spicedb serve` from .tools/bin: memory datastore, a preshared key, no release check, no
 * telemetry, no metrics or HTTP listener. SpiceDB logs the address it was given, not the one it
 * bound, so it gets a reserved port (test/helpers/ports.ts), kept for restarts; if that port is
 * taken anyway, it starts again on another one.
 */
export async function startSpiceDb(opts: SpiceDbOptions = {}): Promise<RunningSpiceDb> {
  for (let attempt = 1; ; attempt++) {
    const reserved = await reservePort();
    try {
      return await startSpiceDbOn(reserved, opts);
    } catch (err) {
      reserved.release();
      if (!(err instanceof PortTaken) || attempt >= 3) throw err;
    }
  }
}

/**
 * A TLS client sending the preshared key, with the sidecar's TLS settings (tls-channel.ts): the
 * endpoint is 127.0.0.1, which Node 26 refuses as a TLS server name.
 */
function tlsClient(
  endpoint: string,
  tlsOptions: NonNullable<SpiceDbOptions['tls']>,
  presharedKey: string,
  channel: Record<string, number>,
): ZedClient {
  const { name } = tlsOptions;
  const ca = Buffer.from(tlsOptions.ca);
  // A certificate for another name: grpc-js's own override sends that name and checks it.
  const tls = name
    ? { credentials: credentials.createSsl(ca), options: { 'grpc.ssl_target_name_override': name } }
    : tlsChannel(endpoint, ca);
  const key = credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${presharedKey}`);
    callback(null, metadata);
  });
  return v1.NewClientWithChannelCredentials(
    endpoint,
    credentials.combineChannelCredentials(tls.credentials, key),
    1,
    { ...channel, ...tls.options },
  );
}

type Check = (req: v1.CheckPermissionRequest) => Promise<v1.CheckPermissionResponse>;

/**
 * Resolves once what the bootstrap file loaded is visible to a minimize_latency check, the read
 * the sidecar makes: the last relationship written, or without relationships the schema (a
 * check on its first definition that has a relation or permission stops failing with
 * FAILED_PRECONDITION). Any other failure is thrown at once.
 */
export async function untilBootVisible(
  check: Check,
  schema: string,
  written: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  const last = relationshipLines(written.join('\n')).at(-1);
  if (last !== undefined) return untilVisible(check, parseRelationship(last), timeoutMs);
  const [type, members] = [...indexSchema(schema)].find(([, m]) => m.size > 0) ?? [];
  if (type === undefined) return;
  const probe = toCheckRequest({
    resourceType: type,
    resourceId: 'boot-probe',
    permission: [...members!][0]!,
    subjectType: type,
    subjectId: 'boot-probe',
  });
  // Whether the probe has the permission does not matter, only that its type is known.
  await untilAnswered(check, probe, () => true, "SpiceDB's bootstrap schema", timeoutMs);
}

function tlsFlags(tls: SpiceDbOptions['tls']): string[] {
  if (!tls) return [];
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-spicedb-tls-'));
  writeFileSync(path.join(dir, 'tls.crt'), tls.cert);
  writeFileSync(path.join(dir, 'tls.key'), tls.key, { mode: 0o600 });
  return [
    ['--grpc-tls-cert-path', path.join(dir, 'tls.crt')],
    ['--grpc-tls-key-path', path.join(dir, 'tls.key')],
  ].flat();
}

async function startSpiceDbOn(
  reserved: ReservedPort,
  opts: SpiceDbOptions,
): Promise<RunningSpiceDb> {
  const presharedKey = opts.presharedKey ?? randomBytes(16).toString('hex');
  registerSecret('text', 'SpiceDB preshared key', presharedKey);
  const endpoint = `127.0.0.1:${reserved.port}`;
  const channel = {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 500,
  };
  const client = opts.tls
    ? tlsClient(endpoint, opts.tls, presharedKey, channel)
    : v1.NewClient(
        presharedKey,
        endpoint,
        v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS,
        1,
        channel,
      );
  // The schema and every relationship written so far are loaded before SpiceDB serves (at every
  // start, restarts included): a check never meets a server that is up but still empty.
  const bootDir = mkdtempSync(path.join(tmpdir(), 'jwtx-spicedb-boot-'));
  const bootFile = path.join(bootDir, 'bootstrap.yaml');
  const args = [
    'serve',
    ['--grpc-preshared-key', presharedKey],
    ['--datastore-engine', 'memory'],
    ['--datastore-bootstrap-files', bootFile],
    ['--grpc-addr', endpoint],
    tlsFlags(opts.tls),
    ['--http-enabled=false', '--metrics-enabled=false', '--dispatch-cluster-enabled=false'],
    ['--skip-release-check', '--telemetry-endpoint='],
    ['--log-level', 'warn', '--log-format', 'json'],
  ].flat();
  const written: string[] = [opts.relationships ?? ''];
  parseRelationships(written[0]!); // a malformed line fails here, clearly, not in SpiceDB's bootstrap
  let child: ChildProcess | undefined;
  let output = '';
  const check = (req: v1.CheckPermissionRequest) =>
    client.promises.checkPermission(req, md(), { deadline: Date.now() + 15_000 });

  const spawnServer = async () => {
    writeFileSync(
      bootFile,
      stringify({
        schema: opts.schema ?? EXAMPLE_SCHEMA,
        // Every line was parsed when written; a line written twice is listed once.
        relationships: [...new Set(relationshipLines(written.join('\n')))].join('\n'),
      }),
    );
    const proc = spawn(tool('spicedb'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // A crashed test run must not leave a SpiceDB behind.
    const reap = () => proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => process.off('exit', reap));
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const serving = waitFor(
      async () => {
        // The bootstrap file is loaded before SpiceDB listens: once it answers, the schema is there
        // at the head revision (ReadSchema reads there; checks may not yet, see below).
        try {
          await client.promises.readSchema({}, md(), { deadline: Date.now() + 2_000 });
          return true;
        } catch {
          return false;
        }
      },
      'spicedb to serve',
      60_000,
    );
    await unlessExited(proc, 'spicedb', () => output, serving).catch((err: unknown) => {
      throw output.includes('address already in use') ? new PortTaken(String(err)) : err;
    });
    // Serving is not enough: a minimize_latency check reads at a revision rounded down to the
    // quantization window, which in v1.56's memory datastore may land before the bootstrap
    // ("object definition not found" for up to 5 s; fixed upstream in authzed/spicedb#3366).
    await unlessExited(
      proc,
      'spicedb',
      () => output,
      untilBootVisible(check, opts.schema ?? EXAMPLE_SCHEMA, written),
    );
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };

  try {
    await spawnServer();
  } catch (err) {
    await stop();
    client.close();
    throw err;
  }
  return {
    endpoint,
    presharedKey,
    client,
    async write(relationships, options = {}) {
      const rels = parseRelationships(relationships);
      const res = await client.promises.writeRelationships(touchAll(rels), md(), {
        deadline: Date.now() + 15_000,
      });
      written.push(relationships);
      if (options.visible !== false && rels.length > 0) await untilVisible(check, rels.at(-1)!);
      return res.writtenAt?.token ?? '';
    },
    stop,
    start: spawnServer,
    logs: () => output,
    release: () => {
      reserved.release();
      rmSync(bootDir, { recursive: true, force: true });
    },
  };
}

/** Closes the client and stops the server (for afterAll). */
export async function stopSpiceDb(db: RunningSpiceDb | undefined): Promise<void> {
  if (!db) return;
  await db.stop();
  db.client.close();
  db.release();
}
