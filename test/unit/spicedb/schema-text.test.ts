import { describe, expect, it } from 'vitest';
import { compileRule } from '../../../src/config/rules.js';
import { ruleSchemaProblems } from '../../../src/spicedb/rule-schema.js';
import { indexSchema } from '../../../src/spicedb/schema-text.js';
import { EXAMPLE_SCHEMA } from '../../helpers/spicedb.js';
import { compileHttpMatch } from '../../../src/config/route-match.js';

const SPEC = 'POST /v2/namespaces/{cluster}';

describe('indexSchema', () => {
  it('lists the definitions and their relations and permissions of the example schema', () => {
    const index = indexSchema(EXAMPLE_SCHEMA);
    expect([...index.keys()].sort()).toEqual(['cloud', 'namespace', 'saga', 'service', 'user']);
    expect([...index.get('cloud')!].sort()).toEqual([
      'admin',
      'create_saga',
      'manage_namespaces',
      'member',
      'operator',
      'view',
    ]);
    expect(index.get('user')!.size).toBe(0);
  });

  it('ignores comments, string literals and caveat bodies', () => {
    const index = indexSchema(`
      // definition ghost { relation boo: user }
      /* definition ghost2 {} */
      caveat in_window(now timestamp, s string) { s == "definition fake { }" && now > now }
      definition acme/doc {
        relation viewer: user with in_window // permission not_me = viewer
        permission read = viewer
      }
    `);
    expect([...index.keys()]).toEqual(['acme/doc']);
    expect([...index.get('acme/doc')!].sort()).toEqual(['read', 'viewer']);
  });
});

describe('ruleSchemaProblems', () => {
  const schema = indexSchema(EXAMPLE_SCHEMA);
  const rule = (type: string, permission: string) =>
    compileRule({
      match: { http: SPEC, matcher: compileHttpMatch(SPEC) },
      resource: { type, id: { param: 'cluster' } },
      permission,
      dryRun: false,
    });
  const subjects = { user: 'user', service: 'service' };

  it('is empty when every type and permission exists', () => {
    expect(ruleSchemaProblems([rule('cloud', 'create_saga')], subjects, schema)).toEqual([]);
  });

  it('names the rule, the missing permission and what the definition has', () => {
    const [p] = ruleSchemaProblems([rule('cloud', 'create_sagas')], subjects, schema);
    expect(p!.path).toBe('authorization.rules[0].permission');
    expect(p!.message).toContain('"cloud" has no permission or relation "create_sagas"');
    expect(p!.message).toContain('create_saga');
  });

  it('reports unknown resource and subject types', () => {
    const problems = ruleSchemaProblems(
      [rule('planet', 'view')],
      { user: 'person', service: 'service' },
      schema,
    );
    expect(problems.map((p) => p.path)).toEqual([
      'authorization.subjects.user.type',
      'authorization.rules[0].resource.type',
    ]);
    expect(problems[1]!.message).toContain('definition "planet" is not in the SpiceDB schema');
  });
});
