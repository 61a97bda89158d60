import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v1 } from '@authzed/authzed-node';
import { Metadata, status } from '@grpc/grpc-js';
import type { ZedClient } from '../../src/spicedb/client.js';
import { parseRelationships, touchAll } from '../../src/spicedb/relationship-text.js';
import { freePort, waitFor } from './ports.js';
import { registerSecret } from './run-logs.js';
import { ROOT, tool } from './tools.js';

export const EXAMPLE_SCHEMA = readFileSync(path.join(ROOT, 'examples/spicedb/schema.zed'), 'utf8');
export const EXAMPLE_RELATIONSHIPS = readFileSync(
  path.join(ROOT, 'examples/spicedb/relationships.txt'),
  'utf8',
);

export interface SpiceDbOptions {
  /** Schema written at every start (default: examples/spicedb/schema.zed). */
  readonly schema?: string;
  /** Relationships written at every start, as text lines (default: none). */
  readonly relationships?: string;
  readonly presharedKey?: string;
  /** Serve gRPC over TLS with this PEM certificate and key; `ca` (PEM) is what the client trusts. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

export interface RunningSpiceDb {
  /** host:port of the gRPC API (plaintext, loopback). */
  readonly endpoint: string;
  readonly httpPort: number;
  readonly presharedKey: string;
  /** A plaintext client that sends the preshared key. */
  readonly client: ZedClient;
  /** TOUCHes relationships (text lines); they are rewritten after a restart. Returns the ZedToken. */
  write(relationships: string): Promise<string>;
  /** Stops the server (the memory datastore is lost). */
  stop(): Promise<void>;
  /** Starts it again on the same ports, then rewrites the schema and every relationship written. */
  start(): Promise<void>;
  logs(): string;
}

const md = () => new Metadata();

/**
 * A real `spicedb serve` from .tools/bin: memory datastore, random loopback ports for gRPC and
 * HTTP, a preshared key, no release check, no telemetry, no metrics listener.
 */
export async function startSpiceDb(opts: SpiceDbOptions = {}): Promise<RunningSpiceDb> {
  const presharedKey = opts.presharedKey ?? randomBytes(16).toString('hex');
  registerSecret('text', 'SpiceDB preshared key', presharedKey);
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const endpoint = `127.0.0.1:${grpcPort}`;
  const channel = {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 500,
  };
  const client = opts.tls
    ? v1.NewClientWithCustomCert(presharedKey, endpoint, Buffer.from(opts.tls.ca), 1, channel)
    : v1.NewClient(
        presharedKey,
        endpoint,
        v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS,
        1,
        channel,
      );
  const tlsFlags: string[] = [];
  if (opts.tls) {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-spicedb-tls-'));
    writeFileSync(path.join(dir, 'tls.crt'), opts.tls.cert);
    writeFileSync(path.join(dir, 'tls.key'), opts.tls.key, { mode: 0o600 });
    tlsFlags.push('--grpc-tls-cert-path', path.join(dir, 'tls.crt'));
    tlsFlags.push('--grpc-tls-key-path', path.join(dir, 'tls.key'));
  }
  const written: string[] = [opts.relationships ?? ''];
  let child: ChildProcess | undefined;
  let output = '';

  const spawnServer = async () => {
    const args = [
      'serve',
      ['--grpc-preshared-key', presharedKey],
      ['--datastore-engine', 'memory'],
      ['--grpc-addr', endpoint],
      tlsFlags,
      ['--http-enabled', '--http-addr', `127.0.0.1:${httpPort}`],
      ['--metrics-enabled=false', '--dispatch-cluster-enabled=false'],
      ['--skip-release-check', '--telemetry-endpoint='],
      ['--log-level', 'warn', '--log-format', 'json'],
    ].flat();
    const proc = spawn(tool('spicedb'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // A crashed test run must not leave a SpiceDB behind.
    const reap = () => proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => process.off('exit', reap));
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`spicedb exited: ${output}`);
        try {
          await client.promises.readSchema({}, md(), { deadline: Date.now() + 500 });
          return true;
        } catch (err) {
          return (err as { code?: number }).code === status.NOT_FOUND; // serving, no schema yet
        }
      },
      'spicedb to serve',
      20_000,
    );
    const schema = opts.schema ?? EXAMPLE_SCHEMA;
    await client.promises.writeSchema({ schema }, md(), { deadline: Date.now() + 5_000 });
    const rels = parseRelationships(written.join('\n'));
    if (rels.length > 0) {
      await client.promises.writeRelationships(touchAll(rels), md(), {
        deadline: Date.now() + 5_000,
      });
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
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
    httpPort,
    presharedKey,
    client,
    async write(relationships) {
      const res = await client.promises.writeRelationships(
        touchAll(parseRelationships(relationships)),
        md(),
        { deadline: Date.now() + 5_000 },
      );
      written.push(relationships);
      return res.writtenAt?.token ?? '';
    },
    stop,
    start: spawnServer,
    logs: () => output,
  };
}

/** Closes the client and stops the server (for afterAll). */
export async function stopSpiceDb(db: RunningSpiceDb | undefined): Promise<void> {
  if (!db) return;
  await db.stop();
  db.client.close();
}
