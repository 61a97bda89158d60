import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { cli } from '../helpers/cli.js';
import { freePort, waitFor } from '../helpers/ports.js';

/**
 * SIGTERM on a real `jwtexchange serve` process: it reports NOT_SERVING (gRPC health and
 * /readyz) while draining, finishes the check in flight with its real decision, then exits 0.
 */
describe('graceful shutdown', () => {
  const servers: http.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('drains: NOT_SERVING, the in-flight check completes, new connections refused, exit 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-shutdown-'));
    const issuer = await ensureDevIssuer(dir);
    // A JWKS endpoint that answers slowly, so the first check is still in flight at SIGTERM.
    const jwks = readFileSync(issuer.jwksFile);
    const slow = http.createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks), 1_500);
    });
    servers.push(slow);
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        // One process; workers.test.ts drains several.
        `server: { grpcAddress: 127.0.0.1:${grpcPort}, httpAddress: 127.0.0.1:${httpPort}, drainDelayMs: 800, workers: 1 }`,
        'inbound:',
        '  issuers:',
        `    - { issuer: '${issuer.issuer}', audiences: [gateway],`,
        `        jwksUri: 'http://127.0.0.1:${(slow.address() as AddressInfo).port}/jwks' }`,
      ].join('\n'),
    );
    const child = cli(['serve', '--config', config], { JWTEXCHANGE_CONFIG: '' });
    let logs = '';
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok,
      'serve to listen',
      20_000,
    );

    const address = `127.0.0.1:${grpcPort}`;
    const client = new AuthorizationClient(address);
    const token = await issuer.mint({ sub: 'alice' });
    const inFlight = client.check(
      syntheticCheckRequest({ headers: { authorization: `Bearer ${token}` } }),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');

    // While draining: /readyz says not ready (draining), gRPC health says NOT_SERVING.
    const report = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      const body = (await res.json()) as { draining: boolean };
      return res.status === 503 && body.draining ? body : undefined;
    }, '/readyz to report draining');
    expect(report!.draining).toBe(true);
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(address, credentials.createInsecure()) as unknown as {
      check(
        req: { service: string },
        cb: (err: ServiceError | null, res?: { status: string }) => void,
      ): void;
      close(): void;
    };
    const serving = await new Promise<string | undefined>((resolve) =>
      health.check({ service: '' }, (err, res) => resolve(err ? `error ${err.code}` : res?.status)),
    );
    health.close();
    expect(serving).toBe('NOT_SERVING');

    // The check that was in flight still gets its real decision.
    const res = await inFlight;
    expect(res.status?.code ?? 0).toBe(0);
    expect(
      res.ok_response?.headers.find((h) => h.header.key === 'x-jwtauth-subject')?.header.value,
    ).toBe('alice');
    client.close();

    expect(await exited).toBe(0);
    expect(logs).toContain('"msg":"draining"');
    expect(logs).toContain('"msg":"stopped"');
    await expect(fetch(`http://127.0.0.1:${httpPort}/healthz`)).rejects.toThrow();
    const late = new AuthorizationClient(address);
    await expect(late.check(syntheticCheckRequest({}), 1_000)).rejects.toMatchObject({ code: 14 });
    late.close();
  }, 40_000);
});
