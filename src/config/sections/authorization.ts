import * as z from 'zod';
import { OBJECT_TYPE, PERMISSION } from '../spicedb-names.js';
import { compileGrpcMatch, compileHttpMatch } from '../route-match.js';

/**
 * Per-route SpiceDB permission checks (docs/authorization.md). Each rule maps a request to one
 * check `resource.type:{id}#permission@{subject type}:{subject id}`; the first matching rule wins.
 */

const claimName = z.string().min(1).max(256);
const headerName = z
  .string()
  .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a lower-case HTTP header name');

/** Where an id comes from: a path parameter, a header, a claim of the verified token, or a constant. */
const idSource = z
  .strictObject({
    param: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    header: headerName.optional(),
    claim: claimName.optional(),
    value: z.string().min(1).optional(),
  })
  .refine((s) => Object.values(s).filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of param, header, claim or value',
  });

/** The match spec, compiled here once: the parsed config carries the matcher the check runs. */
const match = z
  .strictObject({
    /** `METHOD /path/{param}`; METHOD may be `*`. */
    http: z.string().optional(),
    /** `package.Service/Method` or `package.Service/*`. */
    grpc: z.string().optional(),
  })
  .transform((m, issue) => {
    if ((m.http === undefined) === (m.grpc === undefined)) {
      issue.addIssue({ code: 'custom', message: 'set exactly one of http or grpc' });
      return z.NEVER;
    }
    try {
      const matcher = m.http !== undefined ? compileHttpMatch(m.http) : compileGrpcMatch(m.grpc!);
      return { ...m, matcher };
    } catch (err) {
      issue.addIssue({
        code: 'custom',
        path: [m.http ? 'http' : 'grpc'],
        message: (err as Error).message,
      });
      return z.NEVER;
    }
  });

const rule = z
  .strictObject({
    /** Shown in logs and errors; defaults to the match spec. */
    name: z.string().min(1).max(128).optional(),
    match,
    resource: z.strictObject({
      type: z.string().regex(OBJECT_TYPE, 'must be a SpiceDB object type (e.g. cloud)'),
      id: idSource,
    }),
    permission: z.string().regex(PERMISSION, 'must be a SpiceDB permission name'),
    subject: z
      .strictObject({
        /**
         * Whom to check: `sub` (default) the token's subject — for a delegated token the user it
         * acts for; `actor` the current actor (act.sub, as a service) — the service doing the work.
         * A token without act acts for itself, so `actor` then checks its subject.
         */
        from: z.enum(['sub', 'actor']).default('sub'),
        /** The subject's id claim for this rule (default: authorization.subjects.<kind>.claim). */
        claim: claimName.optional(),
      })
      .refine((s) => s.from === 'sub' || s.claim === undefined, {
        message: 'claim names the subject id; it cannot be combined with from: actor',
        path: ['claim'],
      })
      .optional(),
    /** Decide, log and count, but allow a denial (and a SpiceDB failure) through. */
    dryRun: z.boolean().default(false),
  })
  .superRefine((r, issue) => {
    const param = r.resource.id.param;
    if (param === undefined) return;
    const params = r.match.http !== undefined ? r.match.matcher.params : [];
    if (!params.includes(param)) {
      issue.addIssue({
        code: 'custom',
        path: ['resource', 'id', 'param'],
        message: `{${param}} is not a parameter of the match path`,
      });
    }
  });

const subjectKind = (type: string) =>
  z
    .strictObject({
      type: z.string().regex(OBJECT_TYPE, 'must be a SpiceDB object type').default(type),
      claim: claimName.default('sub'),
    })
    .prefault({});

export const authorizationSection = () =>
  z
    .strictObject({
      /** Requests that match no rule: allow, or deny with no_matching_rule. */
      default: z.enum(['allow', 'deny']).default('deny'),
      /** Subject type and id claim by token kind (user tokens, service tokens). */
      subjects: z
        .strictObject({ user: subjectKind('user'), service: subjectKind('service') })
        .prefault({}),
      /** A request carrying this header is checked at_least_as_fresh as the ZedToken in it. */
      zedTokenHeader: headerName.default('x-spicedb-zedtoken'),
      /** Allow/deny decisions per (subject, resource, permission); errors are never cached. */
      cache: z
        .strictObject({
          maxEntries: z.number().int().min(0).max(1_000_000).default(10_000),
          /** Memory bound (estimated bytes of the keys held); a long id evicts sooner. */
          maxBytes: z
            .number()
            .int()
            .min(65_536)
            .max(1024 ** 3)
            .default(4 * 1024 ** 2),
          /** Keep at or below SpiceDB's quantization window (5 s by default). 0 disables. */
          ttlMs: z.number().int().min(0).max(60_000).default(2_000),
        })
        .prefault({}),
      rules: z.array(rule).default([]),
    })
    .optional();

export type AuthorizationConfig = NonNullable<z.output<ReturnType<typeof authorizationSection>>>;
export type AuthorizationRuleConfig = AuthorizationConfig['rules'][number];
export type IdSourceConfig = AuthorizationRuleConfig['resource']['id'];
