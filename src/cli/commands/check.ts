import { nowSeconds, systemClock } from '../../clock.js';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { AuthorizationClient, syntheticCheckRequest } from '../../envoy/client.js';
import type { CheckResponse } from '../../envoy/types.js';
import { REASONS, type ReasonCode } from '../../errors.js';
import type { ExplainStep } from '../../envoy/explanation-trailer.js';
import { REASON_HEADER } from '../../check/response.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'send a synthetic CheckRequest to a running server and print the decision';

const HELP = `usage: jwtexchange check [options]

Sends Envoy's CheckRequest for one synthetic request and prints what the sidecar decided:
allow or deny, the reason code (for an allow too), and the headers it would set or remove.

  --server ADDR          ext_authz address (default 127.0.0.1:9191)
  --direction DIR        inbound (default) or outbound (sets jwtexchange.direction)
  --method M --path P    request line (default GET /)
  --host H               :authority
  -H, --header 'k: v'    a request header (repeatable)
  --authorization V      shorthand for -H 'authorization: V'
  --ext key=value        a context extension (repeatable), e.g. jwtexchange.audience=vmcontroller
  --grpc                 content-type application/grpc (denials become gRPC statuses)
  --explain              also print every phase that ran and its outcome: the token's issuer
                         and kid, cache hits, the exchange, the rule and the SpiceDB
                         relationship checked, the headers set and removed (never a token)
  --json                 print the raw CheckResponse as JSON (tokens included: handle with care);
                         with --explain: {"response": …, "explanation": […]}

The explanation is asked for with gRPC call metadata (jwtexchange-explain: true) and returned in
a trailer; Envoy never sets the one nor forwards the other, so callers behind Envoy cannot see it.

Exit status: 0 allow, 1 deny, 2 usage or connection error.`;

function describeValue(name: string, value: string): string {
  if (name === 'authorization' && /^bearer /i.test(value)) {
    try {
      const c = decodeJwt(value.slice(7));
      const exp = typeof c.exp === 'number' ? `, exp in ${c.exp - nowSeconds(systemClock)}s` : '';
      return `Bearer <JWT redacted: iss=${String(c.iss)} sub=${String(c.sub)} aud=${JSON.stringify(c.aud)}${exp}>`;
    } catch {
      return 'Bearer <redacted>';
    }
  }
  if (name === 'x-jwtauth-claims') {
    return `${Buffer.from(value, 'base64url').toString('utf8')}  (decoded)`;
  }
  return value;
}

/** The note of the step that decided an allow (passthrough, exempt, dry-run), if any. */
function decidingNote(steps: readonly ExplainStep[], reason: string): string | undefined {
  const outcomes: Record<string, string[]> = {
    passthrough: ['passthrough'],
    exempt: ['exempt'],
    dry_run: ['would_deny', 'dry_run'],
  };
  const wanted = outcomes[reason] ?? [];
  const step = steps.findLast((s) => wanted.includes(s.outcome));
  return typeof step?.note === 'string' ? step.note : undefined;
}

function allowReason(steps: readonly ExplainStep[] | undefined): string[] {
  const decision = steps?.findLast((s) => s.phase === 'decision');
  const reason = typeof decision?.reason === 'string' ? decision.reason : undefined;
  if (!steps || !reason || !(reason in REASONS))
    return ['  reason  (the server did not report it: not a jwtexchange ext_authz server?)'];
  // Why this allow when a phase said (a passthrough's when-header, dry-run), else what it means.
  const why = decidingNote(steps, reason) ?? REASONS[reason as ReasonCode].summary;
  const lines = [`  reason  ${reason} (${why})`];
  if (typeof decision?.wouldDeny === 'string')
    lines.push(`          would deny: ${decision.wouldDeny}`);
  return lines;
}

function factText(value: ExplainStep[string]): string {
  const text = String(value);
  return /\s/.test(text) || text === '' ? JSON.stringify(text) : text;
}

/** One line per phase, zed-style: phase, outcome, then its facts; a note on the next line. */
export function formatExplanation(steps: readonly ExplainStep[]): string {
  const lines = ['explain:'];
  for (const step of steps) {
    const facts = Object.entries(step)
      .filter(([k]) => k !== 'phase' && k !== 'outcome' && k !== 'note')
      .map(([k, v]) => `${k}=${factText(v)}`);
    lines.push(`  ${step.phase.padEnd(20)} ${[step.outcome, ...facts].join('  ')}`.trimEnd());
    if (typeof step.note === 'string') lines.push(`  ${''.padEnd(20)} ${step.note}`);
  }
  return lines.join('\n');
}

export function formatCheckResponse(res: CheckResponse, steps?: readonly ExplainStep[]): string {
  const lines: string[] = [];
  const allowed = (res.status?.code ?? 0) === 0;
  if (allowed) {
    lines.push('decision: ALLOW', ...allowReason(steps));
    for (const h of res.ok_response?.headers ?? []) {
      lines.push(`  set     ${h.header.key}: ${describeValue(h.header.key, h.header.value)}`);
    }
    for (const h of res.ok_response?.headers_to_remove ?? []) lines.push(`  remove  ${h}`);
  } else {
    const d = res.denied_response;
    // The decoded enum is a name (e.g. Unauthorized); the reason header gives the number.
    const reason = d?.headers?.find((h) => h.header.key === REASON_HEADER)?.header.value;
    const http = reason && reason in REASONS ? REASONS[reason as ReasonCode].http : d?.status?.code;
    lines.push(`decision: DENY (http ${http ?? 403}, grpc code ${res.status.code})`);
    lines.push(`  reason  ${res.status.message ?? ''}`);
    for (const h of d?.headers ?? []) lines.push(`  header  ${h.header.key}: ${h.header.value}`);
  }
  return lines.join('\n');
}

const WHERE_SIDECARS_LISTEN =
  '`npm start` (jwtexchange dev) listens on 127.0.0.1:9191 unless --grpc-port says otherwise, ' +
  '`jwtexchange serve` on its server.grpcAddress, and `npm run demo -- --keep` prints the ' +
  'addresses of its sidecars. Point --server at one of them.';

/** Why the RPC failed and what to do about it: never grpc-js's bare (or empty) notes. */
export function describeRpcFailure(err: unknown, server: string): string {
  const e = err as Partial<ServiceError>;
  const raw = String(e.details || e.message || err);
  // grpc-js may end the text with an empty "Resolution note:"; dropped without a regex (lint).
  const note = raw.lastIndexOf('Resolution note:');
  const empty = note !== -1 && raw.slice(note + 'Resolution note:'.length).trim() === '';
  const detail = (empty ? raw.slice(0, note) : raw).trim();
  const head = `cannot reach ext_authz server at ${server}`;
  if (e.code === GrpcStatus.UNAVAILABLE) {
    const refused = /ECONNREFUSED/.test(detail);
    const unresolved = /Name resolution failed/i.test(detail);
    const what = refused
      ? 'connection refused: nothing listens there'
      : unresolved
        ? 'the host name does not resolve'
        : detail;
    return `${head}: ${what}.\n  Is the sidecar running? ${WHERE_SIDECARS_LISTEN}`;
  }
  if (e.code === GrpcStatus.DEADLINE_EXCEEDED) {
    return `${head}: no answer in time (${detail}).\n  The port may belong to something that is not a gRPC server, or the sidecar is overloaded.`;
  }
  if (e.code === GrpcStatus.UNIMPLEMENTED) {
    return `${head}: it does not serve envoy.service.auth.v3.Authorization/Check.\n  Is this jwtexchange's ext_authz port (server.grpcAddress), not its HTTP port?`;
  }
  return `${head}: ${detail}`;
}

function output(
  res: CheckResponse,
  steps: ExplainStep[] | undefined,
  o: { json: boolean; explain: boolean },
): string {
  if (o.json) {
    return JSON.stringify(o.explain ? { response: res, explanation: steps ?? null } : res, null, 2);
  }
  const text = formatCheckResponse(res, steps);
  if (!o.explain) return text;
  return `${text}\n${steps ? formatExplanation(steps) : 'explain: the server sent no explanation'}`;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      server: { type: 'string', default: '127.0.0.1:9191' },
      direction: { type: 'string', default: 'inbound' },
      method: { type: 'string', default: 'GET' },
      path: { type: 'string', default: '/' },
      host: { type: 'string', default: 'localhost' },
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      authorization: { type: 'string' },
      ext: { type: 'string', multiple: true, default: [] },
      grpc: { type: 'boolean', default: false },
      explain: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const headers: Record<string, string> = {};
  for (const h of v.header) {
    const i = h.indexOf(':');
    if (i <= 0) {
      console.error(`bad --header ${JSON.stringify(h)}: expected 'name: value'`);
      return 2;
    }
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  if (v.authorization) headers.authorization = v.authorization;
  if (v.grpc) headers['content-type'] = 'application/grpc';
  const extensions: Record<string, string> = { 'jwtexchange.direction': v.direction };
  for (const e of v.ext) {
    const i = e.indexOf('=');
    if (i <= 0) {
      console.error(`bad --ext ${JSON.stringify(e)}: expected key=value`);
      return 2;
    }
    extensions[e.slice(0, i)] = e.slice(i + 1);
  }
  const client = new AuthorizationClient(v.server);
  try {
    const { response: res, steps } = await client.checkExplained(
      syntheticCheckRequest({ method: v.method, path: v.path, host: v.host, headers, extensions }),
    );
    console.log(output(res, steps, v));
    return (res.status?.code ?? 0) === 0 ? 0 : 1;
  } catch (err) {
    console.error(describeRpcFailure(err, v.server));
    return 2;
  } finally {
    client.close();
  }
}
