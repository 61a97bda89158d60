import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v1 } from '@authzed/authzed-node';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ensureDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import type { CheckResponse } from '../../src/envoy/types.js';
import { ConfigError } from '../../src/errors.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { encodeObjectId } from '../../src/spicedb/object-id.js';
import { waitFor } from '../helpers/ports.js';
import {
  EXAMPLE_RELATIONSHIPS,
  EXAMPLE_SCHEMA,
  exampleRule,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../helpers/spicedb.js';
import { testLogger } from '../helpers/run-logs.js';

type Doc = Record<string, unknown>;

const RULES = [
  exampleRule('create-namespace'),
  {
    name: 'delete-namespace',
    match: { http: 'DELETE /v2/namespaces/{cluster}' },
    resource: { type: 'cloud', id: { param: 'cluster' } },
    permission: 'manage_namespaces',
    dryRun: true,
  },
];

/** The real server with a dev issuer and SpiceDB authorization; startApp only, no readiness wait. */
async function startAuthzApp(
  db: { endpoint: string; presharedKey: string },
  authorization: Doc = {},
  spicedb: Doc = {},
): Promise<{ app: RunningApp; issuer: DevIssuer; client: AuthorizationClient }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-spicedb-'));
  const issuer = await ensureDevIssuer(dir);
  writeFileSync(path.join(dir, 'spicedb.key'), db.presharedKey + '\n', { mode: 0o600 });
  const config = parseConfig(
    {
      server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', shutdownGraceMs: 1000 },
      inbound: {
        issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
      },
      spicedb: {
        endpoint: db.endpoint,
        transport: 'plaintext',
        presharedKeyFile: 'spicedb.key',
        schemaRetryMs: 100,
        // Generous: a check on a machine loaded far beyond its cores must not flake (outage tests
        // set their own).
        timeoutMs: 10_000,
        ...spicedb,
      },
      authorization: { rules: RULES, ...authorization },
    },
    dir,
  );
  const app = await startApp(config, { logger: testLogger('spicedb') });
  return { app, issuer, client: new AuthorizationClient(`127.0.0.1:${app.grpcPort}`) };
}

async function createNamespace(
  t: { issuer: DevIssuer; client: AuthorizationClient },
  sub: string,
  opts: { cluster?: string; headers?: Record<string, string>; claims?: Doc } = {},
): Promise<CheckResponse> {
  const token = await t.issuer.mint({ sub, ...opts.claims });
  return t.client.check(
    syntheticCheckRequest({
      method: 'POST',
      path: `/v2/namespaces/${opts.cluster ?? 'cl0'}`,
      headers: { authorization: `Bearer ${token}`, ...opts.headers },
    }),
  );
}

const reason = (res: CheckResponse) =>
  res.status?.code === 0
    ? 'allowed'
    : res.denied_response?.headers?.find((h) => h.header.key === 'x-jwtauth-reason')?.header.value;
/** Envoy's HttpStatus code as its enum name (proto-loader decodes enums as strings). */
const httpStatus = (res: CheckResponse) => String(res.denied_response?.status?.code ?? 'OK');
const setHeader = (res: CheckResponse, key: string) =>
  res.ok_response?.headers?.find((h) => h.header.key === key)?.header.value;

describe('SpiceDB authorization against a real spicedb serve', () => {
  let db: RunningSpiceDb;
  let t: Awaited<ReturnType<typeof startAuthzApp>>;

  beforeAll(async () => {
    db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
    t = await startAuthzApp(db);
    await t.app.whenReady(60_000);
  });

  afterAll(async () => {
    t?.client.close();
    await t?.app.shutdown();
    await stopSpiceDb(db);
  });

  it('gives the Teleport id create_saga once the relationship is written with the encoded id', async () => {
    const res = await createNamespace(t, 'cloud-teleport-aleksander.rykalin');
    expect(reason(res)).toBe('allowed');
    expect(setHeader(res, 'x-jwtauth-spicedb-subject')).toBe(
      'user:cloud-teleport-aleksander=2Erykalin',
    );
    expect(t.app.readiness.report().gates.spicedb).toMatchObject({ ready: true });
  });

  it('denies a user without the permission with 403 permission_denied', async () => {
    const res = await createNamespace(t, 'mallory');
    expect(reason(res)).toBe('permission_denied');
    expect(httpStatus(res)).toBe('Forbidden');
    const other = await createNamespace(t, 'cloud-teleport-aleksander.rykalin', { cluster: 'cl9' });
    expect(reason(other)).toBe('permission_denied');
  });

  it('checks subject ids with . @ : spaces, non-ASCII and * exactly, with no look-alike collisions', async () => {
    const ids = ['a.b', 'alice@example.com', 'urn:user:1', 'first last', 'алекс 漢字', '*', 'x=y'];
    // Checked at least as fresh as the write (its ZedToken): minimize_latency alone may not see a
    // relationship written moments ago (SpiceDB's quantization window).
    const fresh = {
      'x-spicedb-zedtoken': await db.write(
        ids.map((id) => `cloud:cl1#member@user:${encodeObjectId(id)}`).join('\n'),
      ),
    };
    for (const id of ids) {
      expect(reason(await createNamespace(t, id, { cluster: 'cl1', headers: fresh })), id).toBe(
        'allowed',
      );
    }
    // Look-alikes of the members are different subjects: no collision, no wildcard.
    for (const id of ['a_b', 'a=2Eb', 'alice=40example=2Ecom', 'urn', '=2A', 'x', 'someone']) {
      expect(reason(await createNamespace(t, id, { cluster: 'cl1' })), id).toBe(
        'permission_denied',
      );
    }
  });

  it('encodes resource ids from the path too', async () => {
    const zedToken = await db.write(`cloud:${encodeObjectId('eu.west 1')}#member@user:bob`);
    const res = await createNamespace(t, 'bob', {
      cluster: 'eu.west%201',
      headers: { 'x-spicedb-zedtoken': zedToken },
    });
    expect(reason(res)).toBe('allowed');
  });

  it('denies invalid_object_id before SpiceDB when an id is too long once encoded', async () => {
    const res = await createNamespace(t, '.'.repeat(400));
    expect(reason(res)).toBe('invalid_object_id');
    expect(httpStatus(res)).toBe('Forbidden');
  });

  it('checks at_least_as_fresh as a ZedToken header, and refuses a bogus one with 400', async () => {
    // Not waiting for minimize_latency to see it: the ZedToken is what makes the check fresh.
    const token = await db.write('cloud:cl2#member@user:carol', { visible: false });
    const fresh = await createNamespace(t, 'carol', {
      cluster: 'cl2',
      headers: { 'x-spicedb-zedtoken': token },
    });
    expect(reason(fresh)).toBe('allowed');
    const bogus = await createNamespace(t, 'carol', {
      cluster: 'cl2',
      headers: { 'x-spicedb-zedtoken': 'bm90LWEtdG9rZW4' },
    });
    expect(reason(bogus)).toBe('bad_request');
    expect(httpStatus(bogus)).toBe('BadRequest');
  });

  it('counts SpiceDB checks and decision-cache hits', async () => {
    await createNamespace(t, 'alice');
    await createNamespace(t, 'alice');
    const text = await t.app.metrics.registry.metrics();
    expect(text).toMatch(
      /jwtexchange_spicedb_checks_total\{resource_type="cloud",permission="create_saga",result="allowed"\} [1-9]/,
    );
    expect(text).toMatch(/jwtexchange_spicedb_decision_cache_total\{result="hit"\} [1-9]/);
  });

  it('lets a dry-run rule denial through, counted as dry_run under the reason it would deny for', async () => {
    const token = await t.issuer.mint({ sub: 'mallory' });
    const res = await t.client.check(
      syntheticCheckRequest({
        method: 'DELETE',
        path: '/v2/namespaces/cl0',
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(res.status?.code).toBe(0);
    expect(setHeader(res, 'x-jwtauth-subject')).toBe('mallory');
    expect(await t.app.metrics.registry.metrics()).toMatch(
      /jwtexchange_checks_total\{direction="inbound",decision="dry_run",reason="permission_denied"\} 1/,
    );
  });

  it('refuses to start when a rule names a permission the live schema lacks', async () => {
    const bad = [{ ...RULES[0]!, permission: 'create_sagas' }];
    const err = await startAuthzApp(db, { rules: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('authorization.rules[0].permission');
    expect((err as ConfigError).message).toContain(
      '"cloud" has no permission or relation "create_sagas"',
    );
  });

  it('refuses to start when a rule names a resource type the live schema lacks', async () => {
    const bad = [{ ...RULES[0]!, resource: { type: 'planet', id: { param: 'cluster' } } }];
    const err = await startAuthzApp(db, { rules: bad }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('definition "planet" is not in the SpiceDB schema');
  });

  it('is ready only once checks see a schema written moments ago, so its first check is answered', async () => {
    // ReadSchema reads at head; a minimize_latency check sees a schema write only from SpiceDB's
    // next quantization boundary on (up to 5 s), failing with FAILED_PRECONDITION until then.
    // So first a definition that ReadSchema shows and checks do not see yet.
    let n = 0;
    const type = await waitFor(async () => {
      const name = `project${++n}`;
      const schema = `${EXAMPLE_SCHEMA}\ndefinition ${name} {\n  relation viewer: user\n  permission view = viewer\n}\n`;
      await db.client.promises.writeSchema({ schema }, new Metadata(), {
        deadline: Date.now() + 15_000,
      });
      const hidden = await db.client.promises
        .checkPermission(
          v1.CheckPermissionRequest.create({
            consistency: { requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } },
            resource: { objectType: name, objectId: 'p1' },
            permission: 'view',
            subject: { object: { objectType: 'user', objectId: 'alice' }, optionalRelation: '' },
          }),
          new Metadata(),
          { deadline: Date.now() + 15_000 },
        )
        .then(
          () => false,
          (err: { code?: number }) => err.code === status.FAILED_PRECONDITION,
        );
      return hidden && name;
    }, 'a schema write that checks do not see yet');
    const rules = [
      {
        name: 'view-project',
        match: { http: 'POST /v2/namespaces/{cluster}' },
        resource: { type, id: { param: 'cluster' } },
        permission: 'view',
      },
    ];
    const p = await startAuthzApp(db, { rules });
    try {
      await p.app.whenReady(60_000);
      // Answered by SpiceDB (nobody views it), not spicedb_unavailable.
      expect(reason(await createNamespace(p, 'alice'))).toBe('permission_denied');
    } finally {
      p.client.close();
      await p.app.shutdown();
    }
  });

  it('with a wrong preshared key: not ready, the gate names the cause, checks deny 503', async () => {
    const wrong = await startAuthzApp({ endpoint: db.endpoint, presharedKey: 'not-the-key' });
    try {
      const gate = wrong.app.readiness.report().gates.spicedb!;
      expect(gate.ready).toBe(false);
      expect(gate.detail).toContain('rejected the preshared key');
      expect(gate.detail).not.toContain('not-the-key');
      const readyz = await fetch(`http://127.0.0.1:${wrong.app.httpPort}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.text()).toContain('rejected the preshared key');
      const res = await createNamespace(wrong, 'cloud-teleport-aleksander.rykalin');
      expect(reason(res)).toBe('spicedb_unavailable');
      expect(httpStatus(res)).toBe('ServiceUnavailable');
    } finally {
      wrong.client.close();
      await wrong.app.shutdown();
    }
  });
});

describe('SpiceDB outages', () => {
  let db: RunningSpiceDb;

  beforeAll(async () => {
    db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
  });

  afterAll(async () => {
    await stopSpiceDb(db);
  });

  it('denies 503 while SpiceDB is stopped, and recovers when it returns', async () => {
    const timeoutMs = 500;
    const t = await startAuthzApp(db, { cache: { ttlMs: 0 } }, { timeoutMs });
    try {
      await t.app.whenReady(60_000);
      // The first check may meet a cold SpiceDB on a busy machine: wait for one allow.
      await waitFor(
        async () => reason(await createNamespace(t, 'alice')) === 'allowed',
        'a first allowed check',
      );
      await db.stop();
      // A decision, not a hang (how long it takes is for bench/, not for a test on a busy machine).
      for (let i = 0; i < 3; i++) {
        const res = await createNamespace(t, 'alice');
        expect(reason(res)).toBe('spicedb_unavailable');
        expect(httpStatus(res)).toBe('ServiceUnavailable');
      }
      await db.start();
      await waitFor(
        async () => reason(await createNamespace(t, 'alice')) === 'allowed',
        'checks to succeed again after SpiceDB returned',
      );
    } finally {
      t.client.close();
      await t.app.shutdown();
    }
  });

  it('starts while SpiceDB is down: not ready (unreachable), then ready once it is back', async () => {
    await db.stop();
    const t = await startAuthzApp(db);
    try {
      const gate = t.app.readiness.report().gates.spicedb!;
      expect(gate.ready).toBe(false);
      expect(gate.detail).toMatch(/unreachable|did not answer/);
      await db.start();
      await t.app.whenReady(60_000);
      // The permissions channel reconnects on its own backoff (at most 2 s) after the schema read.
      await waitFor(
        async () => reason(await createNamespace(t, 'alice')) === 'allowed',
        'checks to succeed once SpiceDB is up',
      );
    } finally {
      t.client.close();
      await t.app.shutdown();
    }
  });
});
