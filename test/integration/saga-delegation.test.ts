import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { protobuf, v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { httpJwksLoader, JwksSource } from '../../src/jwt/jwks-source.js';
import { SAGA_ID_TOKEN_TYPE } from '../../src/sagas/saga-id.js';
import { writeSagaRelations } from '../../src/sagas/saga-relations.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { startSpiceDb, stopSpiceDb, type RunningSpiceDb } from '../helpers/spicedb.js';
import {
  EXCHANGE_GRANT,
  JWT_TOKEN_TYPE,
  postToken,
  startTestTokenExchange,
  type TestTokenExchange,
} from '../helpers/token-exchange.js';
import { CALLER_MESSAGES } from '../../src/errors.js';

/**
 * Saga-scoped delegated tokens against the real peers: `spicedb serve` holding the saga relations
 * (written with the app helper, with relationship expiration) and the real token-exchange over
 * mTLS; then the sidecar's outbound phase and cache in front of them.
 */
const TELEPORT_USER = 'cloud-teleport-aleksander.rykalin';
const TELEPORT_SUBJECT = 'user:cloud-teleport-aleksander=2Erykalin';

let spicedb: RunningSpiceDb;
let sts: TestTokenExchange;
let sagaCount = 0;

const minutes = (n: number) => new Date(Date.now() + n * 60_000);
const newSaga = () => `saga-${process.pid}-${++sagaCount}`;

async function saga(opts: { initiator?: string; executor?: string; expiresAt?: Date } = {}) {
  const sagaId = newSaga();
  await writeSagaRelations(spicedb.client, {
    sagaId,
    initiator: opts.initiator ?? TELEPORT_SUBJECT,
    executor: opts.executor ?? 'gateway',
    expiresAt: opts.expiresAt ?? minutes(10),
  });
  return sagaId;
}

const sagaForm = (sagaId: string, audience = 'vmcontroller') => ({
  grant_type: EXCHANGE_GRANT,
  subject_token: sagaId,
  subject_token_type: SAGA_ID_TOKEN_TYPE,
  requested_token_type: JWT_TOKEN_TYPE,
  audience,
});

beforeAll(async () => {
  spicedb = await startSpiceDb();
  // token-exchange reads the saga relations from the same SpiceDB, with its own key file.
  const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'jwtx-saga-')), 'spicedb.key');
  writeFileSync(keyFile, spicedb.presharedKey, { mode: 0o600 });
  sts = await startTestTokenExchange({
    services: ['gateway', 'vmcontroller', 'billing'],
    delegate: ['gateway', 'vmcontroller'],
    audiences: { gateway: ['vmcontroller'], vmcontroller: ['gateway'], billing: ['vmcontroller'] },
    ttlSeconds: 300,
    extra: {
      sagas: {
        spicedb: {
          endpoint: spicedb.endpoint,
          transport: 'plaintext',
          presharedKeyFile: keyFile,
          timeoutMs: 2_000,
        },
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await sts?.close();
  await stopSpiceDb(spicedb);
});

describe('token-exchange: the saga delegation grant', () => {
  it('issues sub = the initiator, act = the service, the saga claim and the audience', async () => {
    const sagaId = await saga();
    const res = await postToken(sts, 'gateway', sagaForm(sagaId));
    expect(res.status).toBe(200);
    expect(res.body.issued_token_type).toBe(JWT_TOKEN_TYPE);
    const keys = new JwksSource({
      name: sts.issuer,
      load: httpJwksLoader(sts.jwksUrl, 5_000, readFileSync(sts.pki.caFile)),
      clock: systemClock,
      refreshIntervalMs: 60_000,
      cooldownMs: 1,
      maxStaleMs: 60_000,
    });
    const { payload } = await jwtVerify(String(res.body.access_token), keys.getKey, {
      issuer: sts.issuer,
      audience: 'vmcontroller',
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      sub: TELEPORT_USER,
      act: { sub: 'gateway' },
      client_id: 'gateway',
      aud: 'vmcontroller',
      saga: sagaId,
    });
  });

  it('never issues a token that outlives the saga', async () => {
    const expiresAt = new Date(Date.now() + 45_000);
    const res = await postToken(sts, 'gateway', sagaForm(await saga({ expiresAt })));
    expect(res.status).toBe(200);
    const claims = decodeJwt(String(res.body.access_token));
    expect(claims.exp!).toBeLessThanOrEqual(Math.floor(expiresAt.getTime() / 1000));
    expect(Number(res.body.expires_in)).toBeLessThanOrEqual(45);
  });

  const refused = async (
    client: string,
    form: Record<string, string>,
    error: string,
    description: RegExp,
  ) => {
    const res = await postToken(sts, client, form);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe(error);
    expect(String(res.body.error_description)).toMatch(description);
  };

  it('refuses a saga whose relations were never written (invalid_request, RFC 8693 §2.2.2)', async () => {
    await refused('gateway', sagaForm(newSaga()), 'invalid_request', /does not execute saga:/);
  });

  it('refuses a service that does not execute the saga, even one allowed to delegate', async () => {
    const sagaId = await saga();
    await refused(
      'vmcontroller',
      sagaForm(sagaId, 'gateway'),
      'invalid_request',
      /"vmcontroller" does not execute/,
    );
  });

  it('refuses a service that may not delegate at all (unauthorized_client)', async () => {
    await refused(
      'billing',
      sagaForm(await saga({ executor: 'billing' })),
      'unauthorized_client',
      /delegate: true/,
    );
  });

  it('refuses a saga with two initiators', async () => {
    const sagaId = await saga();
    await spicedb.client.promises.writeRelationships(
      v1.WriteRelationshipsRequest.create({
        updates: [
          v1.RelationshipUpdate.create({
            operation: v1.RelationshipUpdate_Operation.TOUCH,
            relationship: v1.Relationship.create({
              resource: { objectType: 'saga', objectId: sagaId },
              relation: 'initiator',
              subject: {
                object: { objectType: 'user', objectId: 'mallory' },
                optionalRelation: '',
              },
              optionalExpiresAt: protobuf.Timestamp.fromDate(minutes(10)),
            }),
          }),
        ],
      }),
      new Metadata(),
      { deadline: Date.now() + 5_000 },
    );
    await refused('gateway', sagaForm(sagaId), 'invalid_request', /exactly one initiator/);
  });

  it('refuses an expired saga (SpiceDB relationship expiration)', async () => {
    const sagaId = await saga({ expiresAt: new Date(Date.now() - 1_000) });
    await refused('gateway', sagaForm(sagaId), 'invalid_request', /does not execute/);
  });

  it('refuses an audience the service may not ask for (invalid_target)', async () => {
    await refused(
      'gateway',
      sagaForm(await saga(), 'billing'),
      'invalid_target',
      /audience "billing"/,
    );
  });

  it('refuses a subject_token that is not a SpiceDB-safe saga id, before asking SpiceDB', async () => {
    await refused('gateway', sagaForm('saga.1'), 'invalid_request', /saga id\) may contain only/);
    await refused('gateway', sagaForm('*'), 'invalid_request', /saga id\) may contain only/);
    await refused('gateway', sagaForm('s'.repeat(129)), 'invalid_request', /longer than 128/);
  });

  it('`jwtexchange token --subject-token-type saga-id` shows the delegated token, or the refusal and what to check', async () => {
    const gw = sts.pki.clients.gateway!;
    const args = (sagaId: string) => [
      'token',
      ...['--sts', sts.url, '--ca', sts.pki.caFile, '--cert', gw.certFile, '--key', gw.keyFile],
      ...[
        '--audience',
        'vmcontroller',
        '--subject-token',
        sagaId,
        '--subject-token-type',
        'saga-id',
      ],
    ];
    const sagaId = await saga();
    const ok = await runCli(args(sagaId));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`"saga": "${sagaId}"`);
    expect(ok.stdout).toContain('"sub": "gateway"'); // inside act
    const refused = await runCli(args(newSaga()));
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/invalid_request/);
    expect(refused.stdout + refused.stderr).toMatch(/saga:<id>#initiator and #executor/);
  }, 30_000);

  it('counts the grant as saga_delegation', async () => {
    const text = await sts.metrics.registry.getSingleMetricAsString(
      'jwtexchange_sts_requests_total',
    );
    expect(text).toMatch(/grant="saga_delegation",result="issued"\} [1-9]/);
    expect(text).toMatch(/grant="saga_delegation",result="invalid_request"\} [1-9]/);
  });
});

describe('the sidecar on a delegation route', () => {
  let t: TestApp;
  let client: AuthorizationClient;

  beforeAll(async () => {
    t = await startTestApp(() => ({
      outbound: {
        tokenExchange: {
          ...sts.clientSettings('gateway'),
        },
        audiences: [{ audience: 'vmcontroller', prefetch: false }],
        delegation: { refusalTtlMs: 60_000 },
      },
    }));
    client = new AuthorizationClient(t.grpcAddress);
  });

  afterAll(async () => {
    client?.close();
    await t?.app.shutdown();
  });

  const check = (headers: Record<string, string>) =>
    client.check(
      syntheticCheckRequest({
        method: 'POST',
        path: '/v1/namespaces',
        headers,
        extensions: {
          'jwtexchange.direction': 'outbound',
          'jwtexchange.audience': 'vmcontroller',
          'jwtexchange.delegation': 'saga',
        },
      }),
    );
  const injected = (res: Awaited<ReturnType<typeof check>>) => {
    const auth = res.ok_response?.headers.find((h) => h.header.key === 'authorization');
    return auth ? decodeJwt(auth.header.value.slice('Bearer '.length)) : undefined;
  };

  it('injects the delegated token and serves the saga from cache afterwards', async () => {
    const sagaId = await saga();
    const before = sts.requestCount();
    const res = await check({ 'x-saga-id': sagaId, authorization: 'Bearer app-token' });
    expect(res.status.code).toBe(0);
    expect(injected(res)).toMatchObject({
      sub: TELEPORT_USER,
      act: { sub: 'gateway' },
      saga: sagaId,
    });
    for (let i = 0; i < 5; i++) expect((await check({ 'x-saga-id': sagaId })).status.code).toBe(0);
    expect(sts.requestCount() - before).toBe(1);
  });

  it('denies a missing or unsafe saga id without asking token-exchange', async () => {
    const before = sts.requestCount();
    const cases: Record<string, string>[] = [
      {},
      { 'x-saga-id': 'a.b' },
      { 'x-saga-id': 'x'.repeat(200) },
    ];
    for (const headers of cases) {
      const res = await check(headers);
      expect(res.status.message).toBe(`invalid_saga_id: ${CALLER_MESSAGES.invalid_saga_id}`);
      expect(res.denied_response?.status.code).toBe('BadRequest');
    }
    expect(sts.requestCount()).toBe(before);
  });

  it('denies a saga token-exchange refuses, and remembers the refusal', async () => {
    const unknown = newSaga();
    const before = sts.requestCount();
    const res = await check({ 'x-saga-id': unknown });
    expect(res.denied_response?.status.code).toBe('Forbidden');
    expect(res.status.message).toBe(`delegation_refused: ${CALLER_MESSAGES.delegation_refused}`);
    // The RFC code is in the deny log line, the caller sees the fixed sentence.
    expect(
      t.logs.some(
        (l) => l.includes('"msg":"deny"') && l.includes('token-exchange refused (invalid_request)'),
      ),
    ).toBe(true);
    expect((await check({ 'x-saga-id': unknown })).status.message).toMatch(/^delegation_refused/);
    expect(sts.requestCount() - before).toBe(1);
    // Why goes to the sidecar's log (token-exchange's description), with the saga; never a token.
    const line = t.logs.find(
      (l) => l.includes('delegated token not issued') && l.includes(unknown),
    );
    expect(line).toMatch(/does not execute saga:/);
    expect(line).not.toMatch(/eyJ/);
  });

  it('answers 503 delegation_unavailable while token-exchange cannot reach SpiceDB', async () => {
    const sagaId = await saga();
    await spicedb.stop();
    try {
      const res = await check({ 'x-saga-id': sagaId });
      expect(res.denied_response?.status.code).toBe('ServiceUnavailable');
      expect(res.status.message).toBe(
        `delegation_unavailable: ${CALLER_MESSAGES.delegation_unavailable}`,
      );
      // Why (token-exchange's server_error) is in the deny log line.
      const denied = t.logs.filter((l) => l.includes('"reason":"delegation_unavailable"'));
      expect(denied.at(-1)).toMatch(/server_error/);
    } finally {
      await spicedb.start();
    }
  });
});
