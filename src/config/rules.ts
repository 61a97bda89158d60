import type {
  AuthorizationConfig,
  AuthorizationRuleConfig,
  IdSourceConfig,
} from './sections/authorization.js';
import type { PathParams, RouteMatcher } from './route-match.js';

/** A rule ready for the hot path: its matcher compiled once, when the config was parsed. */
export interface CompiledRule {
  readonly name: string;
  readonly matcher: RouteMatcher;
  readonly resourceType: string;
  readonly resourceId: IdSourceConfig;
  readonly permission: string;
  /** Overrides the subject claim of authorization.subjects for this rule. */
  readonly subjectClaim: string | undefined;
  /** Check the token's subject (default) or its current actor (act.sub, as a service). */
  readonly subjectFrom: 'sub' | 'actor';
  readonly dryRun: boolean;
}

/** A parsed rule as the check reads it (its matcher was compiled when the config was parsed). */
export function compileRule(r: AuthorizationRuleConfig): CompiledRule {
  const { matcher } = r.match;
  return {
    name: r.name ?? matcher.spec,
    matcher,
    resourceType: r.resource.type,
    resourceId: r.resource.id,
    permission: r.permission,
    subjectClaim: r.subject?.claim,
    subjectFrom: r.subject?.from ?? 'sub',
    dryRun: r.dryRun,
  };
}

export const compileRules = (cfg: AuthorizationConfig): CompiledRule[] =>
  cfg.rules.map(compileRule);

/** The first rule that matches, with its path parameters. */
export function findRule(
  rules: readonly CompiledRule[],
  method: string,
  segments: readonly string[],
): { rule: CompiledRule; params: PathParams } | undefined {
  for (const rule of rules) {
    const params = rule.matcher.match(method, segments);
    if (params) return { rule, params };
  }
  return undefined;
}
