import type { CompiledRule } from '../config/rules.js';
import type { SchemaIndex } from './schema-text.js';

/**
 * Checks the rules against the live schema, so an unknown resource type, permission or subject
 * type is a startup error, not a FAILED_PRECONDITION on every request. Returns the problems as
 * config-style `{ path, message }` entries (empty when everything exists).
 */
export function ruleSchemaProblems(
  rules: readonly CompiledRule[],
  subjectTypes: Readonly<Record<string, string>>,
  schema: SchemaIndex,
): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const known = [...schema.keys()].sort().join(', ') || 'none';
  for (const [kind, type] of Object.entries(subjectTypes)) {
    if (!schema.has(type)) {
      problems.push({
        path: `authorization.subjects.${kind}.type`,
        message: `definition "${type}" is not in the SpiceDB schema (definitions: ${known})`,
      });
    }
  }
  rules.forEach((rule, i) => {
    const members = schema.get(rule.resourceType);
    if (!members) {
      problems.push({
        path: `authorization.rules[${i}].resource.type`,
        message: `rule ${rule.name}: definition "${rule.resourceType}" is not in the SpiceDB schema (definitions: ${known})`,
      });
    } else if (!members.has(rule.permission)) {
      problems.push({
        path: `authorization.rules[${i}].permission`,
        message: `rule ${rule.name}: "${rule.resourceType}" has no permission or relation "${rule.permission}" (it has: ${[...members].sort().join(', ') || 'none'})`,
      });
    }
  });
  return problems;
}
