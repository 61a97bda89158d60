import { describe, expect, it } from 'vitest';
import { authorizePhase, SPICEDB_SUBJECT_HEADER } from '../../../../src/check/inbound/authorize.js';
import { createPipeline, type CheckState } from '../../../../src/check/pipeline.js';
import type { RequestContext } from '../../../../src/check/request-context.js';
import { parseConfig } from '../../../../src/config/load.js';
import { buildIdentity } from '../../../../src/jwt/identity.js';
import { silentLogger } from '../../../../src/log.js';
import { SpicedbFailure, type FailureKind } from '../../../../src/spicedb/failure.js';
import type { CheckSpec, PermissionChecker } from '../../../../src/spicedb/permission-checker.js';
import { compileRules } from '../../../../src/config/rules.js';
import { CachedPermissionChecker, DecisionCache } from '../../../../src/spicedb/decision-cache.js';
import { SidecarMetrics } from '../../../../src/metrics/sidecar.js';
import { ManualClock } from '../../../helpers/manual-time.js';
import { exampleRule } from '../../../helpers/spicedb.js';

const RULES = [
  exampleRule('create-namespace'),
  {
    match: { grpc: 'gateway.v2.NamespaceService/*' },
    resource: { type: 'cloud', id: { header: 'x-cluster' } },
    permission: 'create_saga',
  },
  {
    name: 'tenant',
    match: { http: 'GET /v2/tenant' },
    resource: { type: 'cloud', id: { claim: 'cluster' } },
    permission: 'view',
    subject: { claim: 'email' },
  },
  {
    name: 'saga-write',
    match: { http: 'POST /v1/clusters/{cluster}/namespaces' },
    resource: { type: 'cloud', id: { param: 'cluster' } },
    permission: 'manage_namespaces',
    subject: { from: 'actor' },
  },
  {
    name: 'shadow',
    match: { http: 'DELETE /v2/namespaces/{cluster}' },
    resource: { type: 'cloud', id: { param: 'cluster' } },
    permission: 'manage_namespaces',
    dryRun: true,
  },
];

function setup(opts: { default?: 'allow' | 'deny'; answer?: boolean; fail?: FailureKind } = {}) {
  const config = parseConfig({
    spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
    authorization: { default: opts.default ?? 'deny', rules: RULES },
  });
  const seen: CheckSpec[] = [];
  const checker: PermissionChecker = {
    async check(spec) {
      seen.push(spec);
      if (opts.fail)
        throw new SpicedbFailure(opts.fail, `SpiceDB at 10.0.0.1:50051 failed (${opts.fail})`);
      return opts.answer ?? true;
    },
  };
  const phase = authorizePhase({
    rules: compileRules(config.authorization!),
    defaultDecision: config.authorization!.default,
    subjects: config.authorization!.subjects,
    zedTokenHeader: config.authorization!.zedTokenHeader,
    checker,
    logger: silentLogger,
  });
  return { phase, seen };
}

function evaluation(
  method: string,
  path: string,
  claims: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): CheckState {
  const request: RequestContext = {
    direction: 'inbound',
    method,
    path,
    host: 'gw',
    headers,
    extensions: {},
    isGrpc: false,
    requestId: undefined,
    peerPrincipal: undefined,
  };
  // The issuer is token-exchange (serviceTokens: true): sub = client_id means a service.
  const identity = buildIdentity(
    'https://issuer',
    { sub: 'cloud-teleport-aleksander.rykalin', exp: 2_000_000_000, ...claims },
    undefined,
    true,
  );
  return { request, identity, credential: 'tok', wouldDeny: undefined, setHeaders: [] };
}

const header = (ev: CheckState) => ev.setHeaders.find(([k]) => k === SPICEDB_SUBJECT_HEADER)?.[1];

describe('authorize phase', () => {
  it('checks cloud:{cluster}#create_saga@user:{encoded sub} and lets an allowed request go on', async () => {
    const { phase, seen } = setup();
    const ev = evaluation('POST', '/v2/namespaces/cl0');
    expect(await phase.run(ev)).toBeUndefined();
    expect(seen).toEqual([
      {
        resourceType: 'cloud',
        resourceId: 'cl0',
        permission: 'create_saga',
        subjectType: 'user',
        subjectId: 'cloud-teleport-aleksander=2Erykalin',
        zedToken: undefined,
      },
    ]);
    expect(header(ev)).toBe('user:cloud-teleport-aleksander=2Erykalin');
  });

  it('denies with permission_denied when SpiceDB says no', async () => {
    const { phase } = setup({ answer: false });
    const d = await phase.run(evaluation('POST', '/v2/namespaces/cl0'));
    expect(d).toMatchObject({ allow: false, reason: 'permission_denied' });
    expect(d!.message).not.toContain('rykalin');
  });

  it('fails closed with spicedb_unavailable, telling the caller the kind but not the endpoint', async () => {
    for (const fail of ['unreachable', 'timeout', 'unauthenticated', 'schema_mismatch'] as const) {
      const d = await setup({ fail }).phase.run(evaluation('POST', '/v2/namespaces/cl0'));
      expect(d).toMatchObject({ allow: false, reason: 'spicedb_unavailable' });
      expect(d!.message).toContain(fail);
      expect(d!.message).not.toContain('10.0.0.1');
    }
  });

  it('uses a service subject type for service tokens', async () => {
    const { phase, seen } = setup();
    await phase.run(
      evaluation('POST', '/v2/namespaces/cl0', { sub: 'gateway', client_id: 'gateway' }),
    );
    expect(seen[0]).toMatchObject({ subjectType: 'service', subjectId: 'gateway' });
  });

  it('takes ids from headers and claims, with a per-rule subject claim', async () => {
    const { phase, seen } = setup();
    const grpc = evaluation(
      'POST',
      '/gateway.v2.NamespaceService/CreateNamespace',
      {},
      { 'x-cluster': 'cl 1' },
    );
    await phase.run(grpc);
    await phase.run(evaluation('GET', '/v2/tenant', { cluster: 7, email: 'a@b.c' }));
    expect(seen.map((s) => [s.resourceId, s.subjectId])).toEqual([
      ['cl=201', 'cloud-teleport-aleksander=2Erykalin'],
      ['7', 'a=40b=2Ec'],
    ]);
  });

  it('denies invalid_object_id before calling SpiceDB when an id is missing or too long', async () => {
    const { phase, seen } = setup();
    const missingHeader = await phase.run(evaluation('POST', '/gateway.v2.NamespaceService/X'));
    const missingClaim = await phase.run(evaluation('GET', '/v2/tenant'));
    const tooLong = await phase.run(evaluation('POST', `/v2/namespaces/${'.'.repeat(400)}`));
    const longSub = await phase.run(
      evaluation('POST', '/v2/namespaces/cl0', { sub: 'é'.repeat(200) }),
    );
    for (const d of [missingHeader, missingClaim, tooLong, longSub]) {
      expect(d).toMatchObject({ allow: false, reason: 'invalid_object_id' });
    }
    expect(missingHeader!.message).toContain('header x-cluster');
    expect(seen).toHaveLength(0);
  });

  it('applies the default to requests no rule matches, still exporting the subject', async () => {
    const denied = evaluation('GET', '/v2/other');
    expect(await setup().phase.run(denied)).toMatchObject({ reason: 'no_matching_rule' });
    const allowed = evaluation('GET', '/v2/other');
    expect(await setup({ default: 'allow' }).phase.run(allowed)).toBeUndefined();
    expect(header(allowed)).toBe('user:cloud-teleport-aleksander=2Erykalin');
  });

  it('refuses dot segments rather than letting them dodge a rule', async () => {
    const d = await setup({ default: 'allow' }).phase.run(
      evaluation('POST', '/v2/x/../namespaces/cl0'),
    );
    expect(d).toMatchObject({ allow: false, reason: 'bad_request' });
  });

  // Finding 2: under `default: allow` these were allowed with no SpiceDB check at all.
  it.each([
    '/v2%2Fnamespaces%2Fcl0',
    '/v2/namespaces%2Fcl0',
    '/v2%5Cnamespaces%5Ccl0',
    '/v2/namespaces;x=1/cl0',
    '/v2;/namespaces/cl0',
    '/v2\\namespaces\\cl0',
    '/v2/namespaces%252Fcl0',
  ])('refuses %s with bad_request instead of letting it dodge the rule', async (path) => {
    const { phase, seen } = setup({ default: 'allow' });
    const d = await phase.run(evaluation('POST', path));
    expect(d).toMatchObject({ allow: false, reason: 'bad_request' });
    expect(seen).toEqual([]);
  });

  it('checks the canonical spellings of a protected path like the path itself', async () => {
    for (const path of ['/v2/namespaces/cl0', '//v2//namespaces/cl0/', '/v2/%6Eamespaces/%63l0']) {
      const { phase, seen } = setup({ default: 'allow', answer: false });
      expect(await phase.run(evaluation('POST', path))).toMatchObject({
        reason: 'permission_denied',
      });
      expect(seen.map((s) => s.resourceId)).toEqual(['cl0']);
    }
  });

  it('passes a ZedToken header through and refuses one that is not a token', async () => {
    const { phase, seen } = setup();
    await phase.run(
      evaluation('POST', '/v2/namespaces/cl0', {}, { 'x-spicedb-zedtoken': 'GhUKEzE3OTU=' }),
    );
    expect(seen[0]!.zedToken).toBe('GhUKEzE3OTU=');
    const bad = await phase.run(
      evaluation('POST', '/v2/namespaces/cl0', {}, { 'x-spicedb-zedtoken': 'not a token' }),
    );
    expect(bad).toMatchObject({ allow: false, reason: 'bad_request' });
    const refused = await setup({ fail: 'invalid_argument' }).phase.run(
      evaluation('POST', '/v2/namespaces/cl0', {}, { 'x-spicedb-zedtoken': 'Gh' }),
    );
    expect(refused).toMatchObject({ allow: false, reason: 'bad_request' });
  });

  describe('delegated tokens (sub = the user, act.sub = the service)', () => {
    const delegated = {
      act: { sub: 'gateway', act: { sub: 'earlier' } },
      client_id: 'gateway',
      saga: 's1',
    };

    it('checks the user by default: the subject the token acts for', async () => {
      const { phase, seen } = setup();
      await phase.run(evaluation('POST', '/v2/namespaces/cl0', delegated));
      expect(seen[0]).toMatchObject({
        subjectType: 'user',
        subjectId: 'cloud-teleport-aleksander=2Erykalin',
      });
    });

    it('checks the current actor as a service with subject.from: actor, still telling the app the user', async () => {
      const { phase, seen } = setup();
      const ev = evaluation('POST', '/v1/clusters/cl0/namespaces', delegated);
      expect(await phase.run(ev)).toBeUndefined();
      // Only the current (outermost) actor counts, RFC 8693 §4.1.
      expect(seen[0]).toMatchObject({
        resourceType: 'cloud',
        resourceId: 'cl0',
        permission: 'manage_namespaces',
        subjectType: 'service',
        subjectId: 'gateway',
      });
      expect(header(ev)).toBe('user:cloud-teleport-aleksander=2Erykalin');
    });

    it('with subject.from: actor, a token without act is checked as itself (it acts for itself)', async () => {
      const { phase, seen } = setup();
      await phase.run(
        evaluation('POST', '/v1/clusters/cl0/namespaces', {
          sub: 'vmctl-bot',
          client_id: 'vmctl-bot',
        }),
      );
      expect(seen[0]).toMatchObject({ subjectType: 'service', subjectId: 'vmctl-bot' });
      await phase.run(evaluation('POST', '/v1/clusters/cl0/namespaces'));
      expect(seen[1]).toMatchObject({
        subjectType: 'user',
        subjectId: 'cloud-teleport-aleksander=2Erykalin',
      });
    });

    it('a malformed act names no actor', async () => {
      const { phase, seen } = setup();
      await phase.run(evaluation('POST', '/v1/clusters/cl0/namespaces', { act: { sub: 42 } }));
      expect(seen[0]).toMatchObject({ subjectType: 'user' });
    });
  });

  it('refuses a rule that sets both subject.from: actor and subject.claim', () => {
    expect(() =>
      parseConfig({
        spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
        authorization: {
          rules: [{ ...RULES[0], subject: { from: 'actor', claim: 'email' } }],
        },
      }),
    ).toThrow(/authorization\.rules\[0\]\.subject\.claim: claim names the subject id/);
  });

  it('in a dry-run rule, records the denial on the evaluation and lets the pipeline go on', async () => {
    const { phase } = setup({ answer: false });
    const ev = evaluation('DELETE', '/v2/namespaces/cl0');
    expect(await phase.run(ev)).toBeUndefined();
    expect(ev.wouldDeny).toMatchObject({ reason: 'permission_denied' });
    const identify = { name: 'identify', run: (e: CheckState) => void (e.identity = ev.identity) };
    const d = await createPipeline([identify, phase], 'allowed').run(ev.request);
    expect(d).toMatchObject({ allow: true, reason: 'dry_run', wouldDeny: 'permission_denied' });
    expect(d.setHeaders.map(([k]) => k)).toContain(SPICEDB_SUBJECT_HEADER);
  });

  it('dry-run also covers SpiceDB failures', async () => {
    const { phase } = setup({ fail: 'timeout' });
    const ev = evaluation('DELETE', '/v2/namespaces/cl0');
    expect(await phase.run(ev)).toBeUndefined();
    expect(ev.wouldDeny).toMatchObject({ reason: 'spicedb_unavailable' });
  });

  it('answers synchronously on a decision-cache hit (the warm path: no promise), and waits on a miss', async () => {
    const config = parseConfig({
      spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
      authorization: { rules: RULES },
    });
    let calls = 0;
    const spicedb: PermissionChecker = { check: async () => (calls++, true) };
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const checker = new CachedPermissionChecker(
      spicedb,
      new DecisionCache(100, 2_000, new ManualClock()),
      metrics,
    );
    const phase = authorizePhase({
      rules: compileRules(config.authorization!),
      defaultDecision: 'deny',
      subjects: config.authorization!.subjects,
      zedTokenHeader: config.authorization!.zedTokenHeader,
      checker,
      logger: silentLogger,
    });
    const miss = phase.run(evaluation('POST', '/v2/namespaces/cl0'));
    expect(miss).toBeInstanceOf(Promise);
    expect(await miss).toBeUndefined();
    const hit = phase.run(evaluation('POST', '/v2/namespaces/cl0'));
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toBeUndefined();
    expect(calls).toBe(1);
    const counts = await metrics.spicedbDecisionCache.get();
    const count = (result: string) => counts.values.find((v) => v.labels.result === result)?.value;
    expect([count('hit'), count('miss')]).toEqual([1, 1]);
  });
});
