import { describe, expect, it } from 'vitest';
import type { CompiledRule } from '../../../src/config/rules.js';
import { compileHttpMatch } from '../../../src/config/route-match.js';
import { ruleSchemaProblems } from '../../../src/spicedb/rule-schema.js';
import type { SchemaIndex } from '../../../src/spicedb/schema-text.js';

const SCHEMA: SchemaIndex = new Map([
  ['user', new Set<string>()],
  ['cloud', new Set(['admin', 'view'])],
]);

const rule = (name: string, resourceType: string, permission: string): CompiledRule => ({
  name,
  matcher: compileHttpMatch('GET /x'),
  resourceType,
  resourceId: { value: 'main' },
  permission,
  subjectClaim: undefined,
  subjectFrom: 'sub',
  dryRun: false,
});

describe('ruleSchemaProblems', () => {
  it('finds nothing when every type and permission exists', () => {
    expect(ruleSchemaProblems([rule('a', 'cloud', 'view')], { user: 'user' }, SCHEMA)).toEqual([]);
  });

  it('names each unknown subject type, resource type and permission by its config key', () => {
    const problems = ruleSchemaProblems(
      [rule('ok', 'cloud', 'admin'), rule('typo', 'clod', 'view'), rule('perm', 'cloud', 'edit')],
      { user: 'usr', service: 'user' },
      SCHEMA,
    );
    expect(problems).toEqual([
      {
        path: 'authorization.subjects.user.type',
        message: 'definition "usr" is not in the SpiceDB schema (definitions: cloud, user)',
      },
      {
        path: 'authorization.rules[1].resource.type',
        message:
          'rule typo: definition "clod" is not in the SpiceDB schema (definitions: cloud, user)',
      },
      {
        path: 'authorization.rules[2].permission',
        message: 'rule perm: "cloud" has no permission or relation "edit" (it has: admin, view)',
      },
    ]);
  });

  it('says "none" for an empty schema or a definition without members', () => {
    expect(ruleSchemaProblems([], { user: 'user' }, new Map())[0]!.message).toContain(
      '(definitions: none)',
    );
    expect(ruleSchemaProblems([rule('u', 'user', 'view')], {}, SCHEMA)[0]!.message).toContain(
      '(it has: none)',
    );
  });
});
