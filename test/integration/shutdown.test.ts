import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  credentials,
  makeGenericClientConstructor,
  type ClientReadableStream,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { startCliServer } from '../helpers/cli.js';
import { waitFor } from '../helpers/ports.js';

/**
 * A JWKS endpoint that serves `first` once, then holds every later request until release():
 * a check that meets an unknown kid waits on that refetch, so it stays in flight for as long as
 * the test needs — no timing involved.
 */
function gatedJwks(first: Buffer, later: Buffer) {
  const held: http.ServerResponse[] = [];
  let served = 0;
  let released = false;
  const answer = (res: http.ServerResponse, body: Buffer) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const server = http.createServer((_req, res) => {
    if (served++ === 0) answer(res, first);
    else if (released) answer(res, later);
    else held.push(res);
  });
  return {
    server,
    held: () => held.length,
    release() {
      released = true;
      for (const res of held.splice(0)) answer(res, later);
    },
  };
}

type HealthStream = ClientReadableStream<{ status: string }>;

describe('graceful shutdown', () => {
  const servers: http.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('drains: NOT_SERVING, the in-flight check completes, new connections refused, exit 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-shutdown-'));
    const issuer = await ensureDevIssuer(path.join(dir, 'issuer'));
    // At start the endpoint publishes an older key only; the issuer's current key comes later.
    const older = await ensureDevIssuer(path.join(dir, 'older'));
    const jwks = gatedJwks(readFileSync(older.jwksFile), readFileSync(issuer.jwksFile));
    servers.push(jwks.server);
    await new Promise<void>((r) => jwks.server.listen(0, '127.0.0.1', r));
    const jwksPort = (jwks.server.address() as AddressInfo).port;
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        // One process; workers.test.ts drains several.
        'server: { grpcAddress: 127.0.0.1:0, httpAddress: 127.0.0.1:0,',
        '          drainDelayMs: 200, shutdownGraceMs: 120000, workers: 1 }',
        'inbound:',
        '  issuers:',
        `    - { issuer: '${issuer.issuer}', audiences: [gateway], jwks: { cooldownMs: 1 },`,
        `        jwksUri: 'http://127.0.0.1:${jwksPort}/jwks' }`,
      ].join('\n'),
    );
    const serve = await startCliServer(['serve', '--config', config], { JWTEXCHANGE_CONFIG: '' });
    const { grpc: address, http: httpAddress } = serve.addresses;
    const readyz = async () => {
      const res = await fetch(`http://${httpAddress}/readyz`);
      return { status: res.status, body: (await res.json()) as { draining: boolean } };
    };
    await waitFor(async () => (await readyz()).status === 200, 'serve to be ready', 60_000);

    // gRPC health, watched on a stream opened while serving: it sees every change.
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(address!, credentials.createInsecure()) as unknown as {
      watch(req: { service: string }): HealthStream;
      close(): void;
    };
    const statuses: string[] = [];
    const watch = health.watch({ service: '' });
    watch.on('data', (m: { status: string }) => statuses.push(m.status));
    watch.on('error', () => undefined); // cancelled below
    await waitFor(() => statuses.at(-1) === 'SERVING', 'the health watch to say SERVING');

    // A check whose kid is not in the key set yet: it waits on the held refetch.
    const client = new AuthorizationClient(address!);
    const token = await issuer.mint({ sub: 'alice' });
    const inFlight = client.check(
      syntheticCheckRequest({ headers: { authorization: `Bearer ${token}` } }),
      120_000,
    );
    await waitFor(() => jwks.held() > 0, 'the check to wait on the JWKS refetch');
    serve.child.kill('SIGTERM');

    // While draining: /readyz says draining, gRPC health says NOT_SERVING.
    await waitFor(() => statuses.at(-1) === 'NOT_SERVING', 'NOT_SERVING on the health watch');
    const report = await waitFor(async () => {
      const r = await readyz();
      return r.status === 503 && r.body.draining ? r.body : undefined;
    }, '/readyz to report draining');
    expect(report!.draining).toBe(true);
    watch.cancel();
    health.close();

    // The check that was in flight still gets its real decision.
    jwks.release();
    const res = await inFlight;
    expect(res.status?.code ?? 0).toBe(0);
    expect(
      res.ok_response?.headers.find((h) => h.header.key === 'x-jwtauth-subject')?.header.value,
    ).toBe('alice');
    client.close();

    expect(await serve.exited).toBe(0);
    expect(serve.output()).toContain('"msg":"draining"');
    expect(serve.output()).toContain('"msg":"stopped"');
    await expect(fetch(`http://${httpAddress}/healthz`)).rejects.toThrow();
    const late = new AuthorizationClient(address!);
    await expect(late.check(syntheticCheckRequest({}), 5_000)).rejects.toMatchObject({ code: 14 });
    late.close();
  }, 180_000);
});
