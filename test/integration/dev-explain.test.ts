import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tryIt } from '../../src/cli/commands/dev.js';
import { startDevEnvironment, type DevEnvironment } from '../../src/dev/dev-environment.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { runPrinted } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/tools.js';
import { testLogger } from '../helpers/run-logs.js';

/**
 * `npm start`'s embedded default on ports of our choosing (the real token-exchange over mTLS, the
 * dev auth.service, the SpiceDB engine in-process), and `jwtexchange check --explain` against it:
 * every phase says what it did — the token's issuer and kid, the exchange, the rule and the
 * SpiceDB relationship with its encoded ids, cache hits — and never a token.
 */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;
let dir: string;
let env: DevEnvironment;
let app: RunningApp;
let printed: string;
const ports = { grpc: 0, http: 0, sts: 0, auth: 0 };
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwtx-dev-'));
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const logger = testLogger('dev-explain', logs);
  env = await startDevEnvironment(dir, logger, ports);
  app = await startApp(env.config, { logger });
  await app.whenReady(30_000);
  printed = tryIt(env, ROOT);
}, 60_000);

afterAll(async () => {
  await app?.shutdown();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The printed command after the comment line that contains `marker` (continuations joined). */
function printedCommand(marker: string): string {
  const lines = printed.split('\n');
  const start = lines.findIndex((l) => l.includes(marker)) + 1;
  let command = lines[start]!.trim();
  for (let i = start; lines[i]!.endsWith('\\'); i++) {
    command = `${command.slice(0, -1).trim()} ${lines[i + 1]!.trim()}`;
  }
  return command;
}

async function checkInProcess(args: string[]): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  try {
    const code = await main(['check', '--server', `127.0.0.1:${ports.grpc}`, ...args]);
    return { code, stdout: out.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('jwtexchange dev on chosen ports', () => {
  it('listens where it was told, and prints commands for those ports', () => {
    expect(app.grpcPort).toBe(ports.grpc);
    expect(env.sts.url).toBe(`https://127.0.0.1:${ports.sts}`);
    expect(env.devAuth.url).toBe(`http://127.0.0.1:${ports.auth}`);
    expect(printed).toContain(`check --server 127.0.0.1:${ports.grpc}`);
    expect(printed).toContain(`http://127.0.0.1:${ports.http}/readyz`);
    expect(printed).toContain(`--url http://127.0.0.1:${ports.auth} `);
    expect(printed).toContain(`token --sts https://127.0.0.1:${ports.sts} `);
  });
});

describe('check --explain against the embedded default', () => {
  it('explains the Teleport user, exchanged then checked in SpiceDB, as printed', async () => {
    const res = await runPrinted(printedCommand('a Teleport user with create_saga'));
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/reason {2}allowed \(inbound token verified/);
    const explain = res.stdout.slice(res.stdout.indexOf('explain:'));
    expect(explain).toMatch(
      new RegExp(`authenticate\\s+verified {2}issuer=${env.devAuth.issuer} {2}kid=\\S+`),
    );
    expect(explain).toMatch(/exchange\s+exchanged {2}audience=gateway {2}source=token-exchange/);
    expect(explain).toMatch(
      /authorize\s+allowed {2}rule=create-namespace {2}check=cloud:cl0#create_saga@user:cloud-teleport-aleksander=2Erykalin {2}answer=HAS_PERMISSION {2}decisionCache=miss/,
    );
    expect(explain).toMatch(/decision\s+allow {2}reason=allowed {2}set="authorization, /);
    expect(res.stdout).not.toMatch(JWT);
  });

  it('shows the caches answering the same token the second time', async () => {
    const token = await env.devAuth.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
    const args = ['--explain', '--method', 'POST', '--path', '/v2/namespaces/cl0'];
    await checkInProcess([...args, '--authorization', `Bearer ${token}`]);
    const again = await checkInProcess([...args, '--authorization', `Bearer ${token}`]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/authenticate\s+verified .*verifiedCache=hit/);
    expect(again.stdout).toMatch(/exchange\s+exchanged .*source=cache/);
    expect(again.stdout).toMatch(/authorize\s+allowed .*decisionCache=hit/);
    expect(again.stdout).not.toContain(token);
  });

  it('explains a SpiceDB refusal and a request no rule covers', async () => {
    const mallory = await env.devAuth.mint({ sub: 'mallory' });
    const denied = await checkInProcess([
      '--explain',
      '--method',
      'POST',
      '--path',
      '/v2/namespaces/cl0',
      '--authorization',
      `Bearer ${mallory}`,
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(
      /authorize\s+denied {2}rule=create-namespace {2}check=cloud:cl0#create_saga@user:mallory {2}answer=NO_PERMISSION/,
    );
    const other = await checkInProcess(['--explain', '--authorization', `Bearer ${mallory}`]);
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(/authorize\s+no_rule {2}default=allow/);
  });

  it('says why an outbound route got a token, or passed through', async () => {
    const tagged = await runPrinted(printedCommand('a saga-tagged route gets a service token'));
    expect(tagged.code).toBe(0);
    expect(tagged.stdout).toMatch(/reason {2}injected \(service token injected on outbound\)/);
    expect(tagged.stdout).toMatch(/set {5}authorization: Bearer <JWT redacted: iss=/);
    expect(tagged.stdout).not.toMatch(JWT);
    const skipped = await checkInProcess([
      '--direction',
      'outbound',
      '--ext',
      'jwtexchange.audience=vmcontroller',
      '--ext',
      'jwtexchange.when-header=x-saga-id',
      '--explain',
    ]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain(
      'reason  passthrough (jwtexchange.when-header: the request has no x-saga-id header)',
    );
    const injected = await checkInProcess([
      '--direction',
      'outbound',
      '--ext',
      'jwtexchange.audience=vmcontroller',
      '--explain',
    ]);
    expect(injected.stdout).toMatch(
      /inject_service_token\s+injected {2}audience=vmcontroller {2}serviceToken=cache/,
    );
  });

  it('writes the same facts into the decision log at debug level, never a token', () => {
    const decisions = logs.filter((l) => /"msg":"(allow|deny)"/.test(l)).map((l) => JSON.parse(l));
    const authorized = decisions.find((d) =>
      d.explain?.some((s: { phase: string; answer?: string }) => s.answer === 'HAS_PERMISSION'),
    );
    expect(authorized?.explain.map((s: { phase: string }) => s.phase)).toEqual([
      'request',
      'exempt',
      'authenticate',
      'exchange',
      'authorize',
      'identity_headers',
      'decision',
    ]);
    expect(logs.join('\n')).not.toMatch(JWT);
  });
});
