import { JwtxError } from '../../errors.js';
import type { VerifiedIdentity } from '../../jwt/identity.js';
import type { Logger } from '../../log.js';
import { claimAsId, encodeId, resourceId } from '../../spicedb/check-target.js';
import { decisionKey } from '../../spicedb/decision-cache.js';
import { SpicedbFailure } from '../../spicedb/failure.js';
import type {
  AnswerOrigin,
  CheckSpec,
  PermissionChecker,
} from '../../spicedb/permission-checker.js';
import { canonicalPath } from './canonical-path.js';
import type { PathParams } from '../../config/route-match.js';
import { findRule, type CompiledRule } from '../../config/rules.js';
import { deny, type Decision } from '../decision.js';
import { failureOf } from '../failure.js';
import type { CheckState, Phase, PhaseResult } from '../pipeline.js';

/** The encoded SpiceDB subject (`type:id`) handed to the app, so its writes use the very same id. */
export const SPICEDB_SUBJECT_HEADER = 'x-jwtauth-spicedb-subject';

const ZEDTOKEN = /^[A-Za-z0-9+/=_-]{1,1024}$/;

export interface AuthorizeOptions {
  readonly rules: readonly CompiledRule[];
  readonly defaultDecision: 'allow' | 'deny';
  readonly subjects: Readonly<Record<VerifiedIdentity['kind'], { type: string; claim: string }>>;
  readonly zedTokenHeader: string;
  readonly checker: PermissionChecker;
  readonly logger: Logger;
}

/** One rule's check as an explanation step: the relationship, the answer, where it came from. */
function explainRule(
  ev: CheckState,
  rule: CompiledRule,
  spec: CheckSpec | undefined,
  origin: AnswerOrigin | undefined,
  refusal: Decision | undefined,
): void {
  const answer =
    !spec || !origin
      ? undefined
      : refusal === undefined
        ? 'HAS_PERMISSION'
        : refusal.reason === 'permission_denied'
          ? 'NO_PERMISSION'
          : 'error';
  const outcome = !refusal ? 'allowed' : rule.dryRun ? 'would_deny' : 'denied';
  ev.explain!.add('authorize', outcome, {
    rule: rule.name,
    subjectFrom: rule.subjectFrom === 'actor' ? 'actor' : undefined,
    check: spec && decisionKey(spec),
    zedToken: spec?.zedToken !== undefined ? 'at_least_as_fresh' : undefined,
    answer,
    decisionCache: origin?.decisionCache,
    sharedCall: origin?.shared || undefined,
    reason: refusal?.reason,
    note: refusal?.message,
  });
}

/**
 * Authorization phase: the first rule matching the request names one SpiceDB check
 * `resource#permission@subject`; allowed → go on, otherwise deny (permission_denied 403,
 * spicedb_unavailable 503 — fail closed — or invalid_object_id 403 before SpiceDB is called).
 */
export function authorizePhase(opts: AuthorizeOptions): Phase {
  /** Builds the check a rule names; JwtxError (invalid_object_id, bad_request) when it cannot. */
  const specFor = (
    ev: CheckState,
    identity: VerifiedIdentity,
    rule: CompiledRule,
    params: PathParams,
  ): CheckSpec => {
    const subject = subjectFor(ev, identity, rule);
    const inputs = { params, headers: ev.request.headers, claims: identity.claims };
    return {
      resourceType: rule.resourceType,
      resourceId: resourceId(rule.resourceId, inputs, rule.resourceType),
      permission: rule.permission,
      ...subject,
      zedToken: zedToken(ev.request.headers[opts.zedTokenHeader], opts.zedTokenHeader),
    };
  };

  /**
   * Whom the rule checks: the token's subject, or (subject.from: actor) the current actor of a
   * delegated token as a service. The app is always told the token's subject (the user).
   */
  const subjectFor = (
    ev: CheckState,
    identity: VerifiedIdentity,
    rule: CompiledRule,
  ): { subjectType: string; subjectId: string } => {
    const subject = opts.subjects[identity.kind];
    const actor = rule.subjectFrom === 'actor' ? identity.actor : undefined;
    if (actor !== undefined) {
      exportSubject(ev, subject.type, claimAsId(identity.claims, subject.claim));
      const subjectId = encodeId(actor, 'subject (actor act.sub)');
      return { subjectType: opts.subjects.service.type, subjectId };
    }
    const claim = rule.subjectClaim ?? subject.claim;
    const subjectId = encodeId(claimAsId(identity.claims, claim), `subject (claim ${claim})`);
    ev.setHeaders.push([SPICEDB_SUBJECT_HEADER, `${subject.type}:${subjectId}`]);
    return { subjectType: subject.type, subjectId };
  };

  /** Runs one rule's check; undefined when allowed, otherwise the denial. */
  const checkRule = (
    ev: CheckState,
    identity: VerifiedIdentity,
    rule: CompiledRule,
    params: PathParams,
  ): Decision | undefined | Promise<Decision | undefined> => {
    let spec: CheckSpec;
    let origin: AnswerOrigin | undefined;
    const done = (refusal: Decision | undefined, checked: CheckSpec | undefined) => {
      if (ev.explain) explainRule(ev, rule, checked, origin, refusal);
      return refusal;
    };
    try {
      spec = specFor(ev, identity, rule, params);
    } catch (err) {
      return done(failure(err, rule, undefined), undefined);
    }
    const learn = ev.explain && ((o: AnswerOrigin) => (origin = o));
    // A decision-cache hit answers synchronously: no promise on the warm path.
    const cached = opts.checker.cached?.(spec, learn);
    if (cached !== undefined) return done(answer(cached, rule), spec);
    return opts.checker.check(spec, learn).then(
      (allowed) => done(answer(allowed, rule), spec),
      (err: unknown) => done(failure(err, rule, spec), spec),
    );
  };

  /** SpiceDB's answer as the phase's: undefined (go on) or permission_denied. */
  const answer = (allowed: boolean, rule: CompiledRule): Decision | undefined =>
    allowed
      ? undefined
      : deny(
          'permission_denied',
          `${rule.permission} on ${rule.resourceType} denied (rule ${rule.name})`,
        );

  /** A refusal of a dry-run rule is recorded, logged and let through. */
  const applied = (rule: CompiledRule, ev: CheckState, refusal: Decision | undefined) => {
    if (!refusal) return undefined;
    if (!rule.dryRun) return refusal;
    ev.wouldDeny = { reason: refusal.reason, message: refusal.message };
    opts.logger.info('authorization dry-run: would deny', {
      rule: rule.name,
      reason: refusal.reason,
    });
    return undefined;
  };

  /** A check that could not be made or answered: never an RPC error, always a decision. */
  const failure = (err: unknown, rule: CompiledRule, spec: CheckSpec | undefined): Decision => {
    // Before SpiceDB is called (building the check): a JwtxError, or a bug (rethrown).
    const f = failureOf(err, spec ? 'spicedb' : undefined);
    if (!f) throw err;
    if (err instanceof JwtxError) return deny(f.reason, f.message);
    if (err instanceof SpicedbFailure && err.kind === 'invalid_argument' && spec?.zedToken) {
      return deny('bad_request', `${opts.zedTokenHeader} is not a valid ZedToken`);
    }
    // The caller learns the kind of failure (f); the operator's log gets the endpoint and details.
    opts.logger.warn('SpiceDB check failed; denying', {
      rule: rule.name,
      error: err instanceof SpicedbFailure ? err.message : String(err),
    });
    return deny(f.reason, f.message);
  };

  return {
    name: 'authorize',
    onDeadline: {
      reason: 'spicedb_unavailable',
      message: "SpiceDB check failed (no answer before Envoy's deadline)",
    },
    run(ev): PhaseResult | Promise<PhaseResult> {
      const identity = ev.identity;
      if (!identity) return deny('internal', 'authorization ran without a verified identity');
      const path = canonicalPath(ev.request.path);
      if (path.problem) {
        return deny('bad_request', `the path is refused before rule matching (${path.problem})`);
      }
      const found = findRule(opts.rules, ev.request.method, path.segments);
      if (!found) {
        const subject = opts.subjects[identity.kind];
        exportSubject(ev, subject.type, claimAsId(identity.claims, subject.claim));
        ev.explain?.add('authorize', 'no_rule', {
          default: opts.defaultDecision,
          note: `no rule matches ${ev.request.method} ${ev.request.path}; authorization.default applies`,
        });
        if (opts.defaultDecision === 'allow') return undefined;
        return deny('no_matching_rule', 'no authorization rule matches this request');
      }
      const refusal = checkRule(ev, identity, found.rule, found.params);
      return refusal instanceof Promise
        ? refusal.then((r) => applied(found.rule, ev, r))
        : applied(found.rule, ev, refusal);
    },
  };
}

/** For requests no rule matches: the app still learns its caller's SpiceDB subject, if it has one. */
function exportSubject(ev: CheckState, type: string, raw: string | undefined): void {
  if (raw === undefined) return;
  try {
    ev.setHeaders.push([SPICEDB_SUBJECT_HEADER, `${type}:${encodeId(raw, 'subject')}`]);
  } catch {
    // Not encodable (too long, not Unicode): nothing to export; no rule needs it.
  }
}

function zedToken(value: string | undefined, header: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!ZEDTOKEN.test(value)) throw new JwtxError('bad_request', `${header} is not a ZedToken`);
  return value;
}
