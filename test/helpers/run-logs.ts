import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../../src/log.js';

/**
 * Every log a test run produces goes to one folder (JWTX_TEST_LOG_DIR, made by
 * test/global-setup.ts): the in-process servers' JSON logs, token-exchange's, the CLI's stderr
 * and Envoy's output. Helpers also record here the secrets they create or see (tokens, private
 * keys, preshared keys). When the run ends, the global teardown fails it if any secret, or any
 * of the PLANTED values below, appears in any log (test/helpers/leak-scan.ts).
 * Outside vitest (e.g. `npm run demo`) the folder is unset and nothing is written.
 */
export const RUN_LOG_DIR_ENV = 'JWTX_TEST_LOG_DIR';

/**
 * Known strings planted where only configuration should hold them (a jwksUri's userinfo and
 * query string). They must never reach a log.
 */
export const PLANTED = {
  urlUser: 'jwtx-planted-user',
  urlPassword: 'jwtx-planted-password-4f1c9d',
  urlQuerySecret: 'jwtx-planted-query-secret-9b2e7a',
} as const;

/** A secret a helper saw: `run` = a whole base64url run (token signature, JWK `d`), `text` = any substring. */
export interface Secret {
  readonly kind: 'run' | 'text';
  readonly what: string;
  readonly value: string;
}

export const runLogDir = (): string | undefined => process.env[RUN_LOG_DIR_ENV] || undefined;

let files = 0;

/** A new file in the run's log folder for one process or logger; undefined outside a test run. */
export function runLogFile(name: string): string | undefined {
  const dir = runLogDir();
  if (!dir) return undefined;
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return path.join(dir, `${safe}-${process.pid}-${++files}.log`);
}

/**
 * A writer appending to a new run log file (a no-op outside a test run). Synchronous, so nothing
 * is lost when a test process exits, on one descriptor kept open: one write per line.
 */
function runLogWriter(name: string): (data: string | Buffer) => void {
  const file = runLogFile(name);
  if (!file) return () => {};
  let fd: number | undefined;
  return (data) => {
    fd ??= openSync(file, 'a');
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
  };
}

/** A line sink appending to a new run log file (a no-op outside a test run). */
export function runLogSink(name: string): (line: string) => void {
  const write = runLogWriter(name);
  return (line) => write(line + '\n');
}

/**
 * The logger every in-process server under test gets: debug level, each line kept in `lines`
 * (for assertions) and in the run's log folder (for the leak check). JWTX_TEST_LOGS=1 also prints.
 */
export function testLogger(name: string, lines: string[] = []): Logger {
  const file = runLogSink(name);
  const echo = process.env.JWTX_TEST_LOGS;
  return createLogger('debug', (l) => {
    lines.push(l);
    file(l);
    if (echo) process.stderr.write(l + '\n');
  });
}

/** Appends what a child process writes on the given streams to a run log file. */
export function captureChildOutput(
  child: ChildProcess,
  name: string,
  streams: readonly ('stdout' | 'stderr')[] = ['stdout', 'stderr'],
): void {
  if (!runLogDir()) return;
  const write = runLogWriter(name);
  for (const s of streams) child[s]?.on('data', (d: Buffer) => write(d));
}

/** Records a secret for the end-of-run leak check (a no-op outside a test run). */
export function registerSecret(kind: Secret['kind'], what: string, value: string): void {
  const dir = runLogDir();
  if (!dir || value.length < 16) return;
  mkdirSync(path.join(dir, 'secrets'), { recursive: true });
  const line = JSON.stringify({ kind, what, value } satisfies Secret);
  appendFileSync(path.join(dir, 'secrets', `${process.pid}.jsonl`), line + '\n');
}

/** Records a compact JWS: its signature is unique to it and never legitimately logged. */
export function registerToken(what: string, token: string): void {
  const signature = token.split('.')[2];
  if (signature) registerSecret('run', what, signature);
}

/** Records a PEM private key by its base64 body lines (any of them in a log is a leak). */
export function registerPem(what: string, pem: string): void {
  for (const line of pem.split('\n')) {
    if (/^[A-Za-z0-9+/]{48,}$/.test(line)) registerSecret('text', what, line);
  }
}
