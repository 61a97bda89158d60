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

/** A client whose readSchema answers from a script: a schema text or a gRPC error code. */
function fakeClient(answers: (string | number)[]) {
  let calls = 0;
  const client = {
    promises: {
      readSchema: async () => {
        const a = answers[Math.min(calls++, answers.length - 1)]!;
        if (typeof a === 'number')
          throw Object.assign(new Error('x'), { code: a, details: `code ${a}` });
        return { schemaText: a };
      },
    },
  } as unknown as ZedClient;
  return { client, calls: () => calls };
}

const gate = (answers: (string | number)[], permission = 'create_saga') => {
  const fake = fakeClient(answers);
  const g = new SchemaGate({
    client: fake.client,
    endpoint: 'spicedb:50051',
    timeoutMs: 100,
    rules: [
      compileRule({
        match: { http: SPEC, matcher: compileHttpMatch(SPEC) },
        resource: { type: 'cloud', id: { param: 'cluster' } },
        permission,
        dryRun: false,
      }),
    ],
    subjectTypes: { user: 'user', service: 'service' },
    logger: silentLogger,
  });
  return { g, calls: fake.calls };
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
});
