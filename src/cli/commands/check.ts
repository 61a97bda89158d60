import { decodeJwt } from 'jose';
import { AuthorizationClient, syntheticCheckRequest } from '../../envoy/client.js';
import type { CheckResponse } from '../../envoy/types.js';
import { REASONS, type ReasonCode } from '../../errors.js';
import { REASON_HEADER } from '../../check/response.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'send a synthetic CheckRequest to a running server and print the decision';

const HELP = `usage: jwtexchange check [options]

Sends Envoy's CheckRequest for one synthetic request and prints what the sidecar decided:
allow or deny, the reason code, and the headers it would set or remove.

  --server ADDR          ext_authz address (default 127.0.0.1:9191)
  --direction DIR        inbound (default) or outbound (sets jwtexchange.direction)
  --method M --path P    request line (default GET /)
  --host H               :authority
  -H, --header 'k: v'    a request header (repeatable)
  --authorization V      shorthand for -H 'authorization: V'
  --ext key=value        a context extension (repeatable), e.g. jwtexchange.audience=vmcontroller
  --grpc                 content-type application/grpc (denials become gRPC statuses)
  --json                 print the raw CheckResponse as JSON (tokens included: handle with care)

Exit status: 0 allow, 1 deny, 2 usage or connection error.`;

function describeValue(name: string, value: string): string {
  if (name === 'authorization' && /^bearer /i.test(value)) {
    try {
      const c = decodeJwt(value.slice(7));
      const exp =
        typeof c.exp === 'number' ? `, exp in ${c.exp - Math.floor(Date.now() / 1000)}s` : '';
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

export function formatCheckResponse(res: CheckResponse): string {
  const lines: string[] = [];
  const allowed = (res.status?.code ?? 0) === 0;
  if (allowed) {
    lines.push('decision: ALLOW');
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
    const res = await client.check(
      syntheticCheckRequest({ method: v.method, path: v.path, host: v.host, headers, extensions }),
    );
    console.log(v.json ? JSON.stringify(res, null, 2) : formatCheckResponse(res));
    return (res.status?.code ?? 0) === 0 ? 0 : 1;
  } catch (err) {
    console.error(`cannot reach ext_authz server at ${v.server}: ${(err as Error).message}`);
    return 2;
  } finally {
    client.close();
  }
}
