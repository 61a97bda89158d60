import { v1 } from '@authzed/authzed-node';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import type { ZedClient } from '../../../src/spicedb/client.js';
import { compileRule } from '../../../src/config/rules.js';
import { SchemaGate } from '../../../src/spicedb/schema-gate.js';
import { compileHttpMatch } from '../../../src/config/route-match.js';

const SPEC = 'POST /v2/namespaces/{cluster}';

const SCHEMA =
  'definition user {}\ndefinition service {}\ndefinition cloud {\n\trelation member: user\n\tpermission create_saga = member\n}';

type Answer = string | number;

/**
 * A client whose readSchema answers from a script (a schema text or a gRPC error code), and
 * whose checkPermission answers from another (a gRPC error code, or NO_PERMISSION for 0).
 */
function fakeClient(answers: Answer[], checkAnswers: number[] = [0]) {
  let calls = 0;
  const checks: v1.CheckPermissionRequest[] = [];
  const fail = (code: number) => Object.assign(new Error('x'), { code, details: `code ${code}` });
  const client = {
    promises: {
      readSchema: async () => {
        const a = answers[Math.min(calls++, answers.length - 1)]!;
        if (typeof a === 'number') throw fail(a);
        return { schemaText: a };
      },
      checkPermission: async (req: v1.CheckPermissionRequest) => {
        const code = checkAnswers[Math.min(checks.length, checkAnswers.length - 1)]!;
        checks.push(req);
        if (code !== 0) throw fail(code);
        return v1.CheckPermissionResponse.create({
          permissionship: v1.CheckPermissionResponse_Permissionship.NO_PERMISSION,
        });
      },
    },
  } as unknown as ZedClient;
  return { client, calls: () => calls, checks };
}

const rule = (permission: string, name?: string) =>
  compileRule({
    ...(name ? { name } : {}),
    match: { http: SPEC, matcher: compileHttpMatch(SPEC) },
    resource: { type: 'cloud', id: { param: 'cluster' } },
    permission,
    dryRun: false,
  });

const gate = (answers: Answer[], permission = 'create_saga', checkAnswers?: number[]) => {
  const fake = fakeClient(answers, checkAnswers);
  const g = new SchemaGate({
    client: fake.client,
    endpoint: 'spicedb:50051',
    timeoutMs: 100,
    rules: [rule(permission)],
    subjectTypes: { user: 'user', service: 'service' },
    logger: silentLogger,
  });
  return { g, calls: fake.calls, checks: fake.checks };
};

describe('SchemaGate', () => {
  it('starts not ready and becomes ready once the rules fit the schema', async () => {
    const { g } = gate([SCHEMA]);
    expect(g.status().ready).toBe(false);
    expect(await g.probe(true)).toMatchObject({ ready: true });
    expect(g.status().detail).toContain('1 rules fit the schema at spicedb:50051');
  });

  it('names the cause while SpiceDB is unreachable, rejects the key, or has no schema, then recovers', async () => {
    const { g } = gate([status.UNAVAILABLE, status.PERMISSION_DENIED, status.NOT_FOUND, SCHEMA]);
    expect((await g.probe(true)).detail).toContain('SpiceDB at spicedb:50051 is unreachable');
    expect((await g.probe()).detail).toContain('rejected the preshared key');
    expect((await g.probe()).detail).toContain('has no schema yet');
    expect((await g.probe()).ready).toBe(true);
  });

  it('throws a ConfigError at start (strict) when a rule does not fit; later probes only report it', async () => {
    const { g } = gate([SCHEMA], 'create_sagas');
    await expect(g.probe(true)).rejects.toThrow(ConfigError);
    const s = await g.probe();
    expect(s.ready).toBe(false);
    expect(s.detail).toContain('authorization.rules[0].permission');
  });

  it('shares one schema read among concurrent probes', async () => {
    const { g, calls } = gate([SCHEMA]);
    await Promise.all([g.probe(), g.probe(), g.probe()]);
    expect(calls()).toBe(1);
  });

  it('is not ready while checks cannot see the schema ReadSchema shows (quantization window)', async () => {
    const { g, checks } = gate([SCHEMA], 'create_saga', [status.FAILED_PRECONDITION, 0]);
    // Strict (at start) too: a schema not yet visible is transient, not a configuration error.
    const first = await g.probe(true);
    expect(first.ready).toBe(false);
    expect(first.detail).toContain('not visible to checks yet');
    expect(first.detail).toContain('quantization window');
    expect((await g.probe()).ready).toBe(true);
    // The probe is the authorize phase's check: minimize_latency, the rule's type and permission.
    expect(checks[0]!.consistency).toEqual({
      requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true },
    });
    expect(checks[0]!.resource!.objectType).toBe('cloud');
    expect(checks[0]!.permission).toBe('create_saga');
    expect(checks[0]!.subject!.object!.objectType).toBe('user');
  });

  it('names the cause when the probe check fails otherwise', async () => {
    const { g } = gate([SCHEMA], 'create_saga', [status.UNAVAILABLE]);
    const s = await g.probe();
    expect(s.ready).toBe(false);
    expect(s.detail).toContain('SpiceDB at spicedb:50051 is unreachable');
  });

  it('checks each resource type and permission once, however many rules share it', async () => {
    const fake = fakeClient([SCHEMA]);
    const g = new SchemaGate({
      client: fake.client,
      endpoint: 'spicedb:50051',
      timeoutMs: 100,
      rules: [rule('create_saga', 'a'), rule('create_saga', 'b'), rule('member', 'c')],
      subjectTypes: { user: 'user', service: 'service' },
      logger: silentLogger,
    });
    expect((await g.probe()).ready).toBe(true);
    expect(fake.checks.map((c) => c.permission).sort()).toEqual(['create_saga', 'member']);
  });
});
