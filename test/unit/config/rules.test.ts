import { describe, expect, it } from 'vitest';
import { canonicalPath } from '../../../src/check/inbound/canonical-path.js';
import { parseConfig } from '../../../src/config/load.js';
import { compileRules, findRule } from '../../../src/config/rules.js';

const seg = (p: string) => canonicalPath(p).segments!;

const config = parseConfig({
  spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
  authorization: {
    rules: [
      {
        name: 'create',
        match: { http: 'POST /v2/namespaces/{cluster}' },
        resource: { type: 'cloud', id: { param: 'cluster' } },
        permission: 'create_saga',
        subject: { claim: 'email' },
      },
      {
        match: { http: '* /v2/namespaces/{cluster}' },
        resource: { type: 'cloud', id: { param: 'cluster' } },
        permission: 'view',
        subject: { from: 'actor' },
        dryRun: true,
      },
    ],
  },
});
const rules = compileRules(config.authorization!);

describe('compileRules', () => {
  it('keeps each rule in order, named by its match when it has no name, with defaults', () => {
    expect(rules.map((r) => r.name)).toEqual(['create', '* /v2/namespaces/{cluster}']);
    expect(rules[0]).toMatchObject({
      resourceType: 'cloud',
      resourceId: { param: 'cluster' },
      permission: 'create_saga',
      subjectClaim: 'email',
      subjectFrom: 'sub',
      dryRun: false,
    });
    expect(rules[1]).toMatchObject({ subjectClaim: undefined, subjectFrom: 'actor', dryRun: true });
  });
});

describe('findRule', () => {
  it.each([
    ['POST', '/v2/namespaces/cl0', 'create', { cluster: 'cl0' }],
    ['GET', '/v2/namespaces/cl1', '* /v2/namespaces/{cluster}', { cluster: 'cl1' }],
  ])('%s %s → the first matching rule, %s', (method, path, name, params) => {
    const found = findRule(rules, method, seg(path));
    expect(found?.rule.name).toBe(name);
    expect(found?.params).toEqual(params);
  });

  it('returns undefined when no rule matches', () => {
    expect(findRule(rules, 'GET', seg('/v2/tenant'))).toBeUndefined();
    expect(findRule([], 'GET', seg('/'))).toBeUndefined();
  });
});
