import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logTail, pinned, stopChild, unlessExited } from './child.js';
import { BENCH_DIR, ROOT } from './paths.js';
import type { ServerUnderTest } from './servers.js';

const BINARY = path.join(ROOT, '.tools', 'bin', 'opa-ext-authz');
const POLICY = path.join(BENCH_DIR, 'opa-ext-authz', 'policy.rego');

/** Why an OPA case cannot run, or undefined when the reference is built. */
export function opaMissing(): string | undefined {
  return existsSync(BINARY)
    ? undefined
    : 'the OPA reference is not built: run `scripts/setup-tools.sh opa-ref`';
}

/**
 * The OPA reference (bench/opa-ext-authz, ext_authz over gRPC) evaluating policy.rego against
 * the bench issuer's JWKS: the same verification jwtexchange's inbound check does for one issuer.
 * `cpus` pins it like the per-core cases pin jwtexchange; unpinned it uses every core (Go).
 */
export async function startOpa(
  issuer: { issuer: string; jwksFile: string },
  files: { data: string; log: string },
  cpus: string | undefined,
): Promise<ServerUnderTest> {
  const data = {
    jwks: readFileSync(issuer.jwksFile, 'utf8'),
    issuer: issuer.issuer,
    audience: 'gateway',
  };
  writeFileSync(files.data, JSON.stringify(data));
  const fd = openSync(files.log, 'w');
  const cmd = pinned(
    BINARY,
    ['-addr', '127.0.0.1:0', '-policy', POLICY, '-data', files.data],
    cpus,
  );
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  const port = new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  const p = await unlessExited(child, 'opa-ext-authz', port).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(files.log)}`);
  });
  return {
    name: 'opa-ext-authz',
    address: `127.0.0.1:${p}`,
    logFile: files.log,
    pid: child.pid!,
    countsDecisions: false,
    stats: () => Promise.resolve({ ok: 0, denied: 0, samples: [] }),
    stop: () => stopChild(child),
  };
}
