import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { httpRequest } from '../../net/http-client.js';
import { describeCertificateNames } from '../../pki/describe.js';
import { SAGA_ID_TOKEN_TYPE } from '../../sagas/saga-id.js';
import { refusalHints, transportHints } from '../error-hints.js';
import { callTokenEndpoint, type TokenCallResult } from '../token-endpoint-call.js';
import {
  GRANT_CLIENT_CREDENTIALS,
  GRANT_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from '../../token-exchange/token-request.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'get a token from token-exchange over mTLS and print its header and claims';

const HELP = `usage: jwtexchange token --sts URL --cert FILE --key FILE --ca FILE (--audience AUD | --resource URI) [options]

Asks token-exchange for a token the way the sidecar does and prints what it got: the decoded
header and claims, and whether the signature verifies against the server's published JWKS.
The token itself is printed only with --raw. On a refusal it prints the RFC 6749 error and what
to check.

  --sts URL                  token-exchange base URL (https://host:port) or its token endpoint
  --cert FILE, --key FILE    the client certificate naming the calling service, and its key
  --ca FILE                  CA bundle that signed the token-exchange server certificate
  --audience AUD             the service the token is for
  --resource URI             or: the RFC 8707 resource indicator of that service
  --client-id ID             send client_id (RFC 8705 tls_client_auth); must name the same service
  --subject-token-file F     exchange the user token in file F (RFC 8693) instead of asking
                             for a service token; F is - for standard input
  --subject-token-type TYPE  jwt (default), access_token, or saga-id: the subject token is then a
                             saga id and the answer a saga-delegated token (docs/delegation.md)
  --actor-token-file F       delegation: the caller's own service token as actor, from file F
                             (or - for standard input)
  --subject-token T, --actor-token T
                             deprecated for tokens: a token on the command line is visible in ps
                             and the shell history; use the -file forms (a saga id is no secret)
  --raw                      also print the token
  --timeout MS               request timeout (default 10000)`;

const OPTIONS = {
  sts: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  audience: { type: 'string' },
  resource: { type: 'string' },
  'client-id': { type: 'string' },
  'subject-token': { type: 'string' },
  'subject-token-file': { type: 'string' },
  'subject-token-type': { type: 'string', default: 'jwt' },
  'actor-token': { type: 'string' },
  'actor-token-file': { type: 'string' },
  raw: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '10000' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

function tokenType(name: string): string {
  if (name === 'jwt') return TOKEN_TYPE_JWT;
  if (name === 'access_token') return TOKEN_TYPE_ACCESS_TOKEN;
  if (name === 'saga-id') return SAGA_ID_TOKEN_TYPE;
  if (name.startsWith('urn:')) return name;
  throw new Error(
    `--subject-token-type must be jwt, access_token or saga-id, not ${JSON.stringify(name)}`,
  );
}

interface Tokens {
  readonly subject?: string;
  readonly actor?: string;
}

function buildForm(v: Values, tokens: Tokens): URLSearchParams {
  const form = new URLSearchParams(
    v.resource !== undefined ? { resource: v.resource } : { audience: v.audience! },
  );
  if (v['client-id'] !== undefined) form.set('client_id', v['client-id']);
  if (tokens.subject === undefined) {
    if (tokens.actor !== undefined) throw new Error('an actor token needs a subject token');
    form.set('grant_type', GRANT_CLIENT_CREDENTIALS);
    return form;
  }
  form.set('grant_type', GRANT_TOKEN_EXCHANGE);
  form.set('subject_token', tokens.subject);
  form.set('subject_token_type', tokenType(v['subject-token-type'] ?? 'jwt'));
  if (tokens.actor !== undefined) {
    form.set('actor_token', tokens.actor);
    form.set('actor_token_type', TOKEN_TYPE_ACCESS_TOKEN);
  }
  return form;
}

/** A token from a file or, for `-`, standard input; surrounding whitespace (a final newline) dropped. */
function readTokenFile(file: string, option: string): string {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new Error(`${option}: cannot read ${file === '-' ? 'standard input' : file}`, {
      cause: err,
    });
  }
  const token = text.trim();
  if (token.length === 0)
    throw new Error(`${option}: ${file === '-' ? 'standard input' : file} is empty`);
  return token;
}

/**
 * The subject and actor tokens, from `--*-token-file` (preferred) or the deprecated argument
 * forms, which print a warning: an argument is visible to every user in `ps` and stays in the
 * shell history.
 */
function readTokens(v: Values, warn: (line: string) => void): Tokens {
  const one = (name: 'subject' | 'actor'): string | undefined => {
    const arg = v[`${name}-token`];
    const file = v[`${name}-token-file`];
    if (arg !== undefined && file !== undefined) {
      throw new Error(`give --${name}-token-file or --${name}-token, not both`);
    }
    if (file !== undefined) return readTokenFile(file, `--${name}-token-file`);
    // A saga id is not a credential: only tokens are worth keeping out of ps.
    const secret = name === 'actor' || v['subject-token-type'] !== 'saga-id';
    if (arg !== undefined && secret) {
      warn(
        `warning: --${name}-token is deprecated: the token is visible in ps and the shell ` +
          `history; use --${name}-token-file FILE, or - to read it from standard input`,
      );
    }
    return arg;
  };
  if (v['subject-token-file'] === '-' && v['actor-token-file'] === '-') {
    throw new Error('standard input can hold only one token: give the actor token in a file');
  }
  const subject = one('subject');
  const actor = one('actor');
  return {
    ...(subject !== undefined ? { subject } : {}),
    ...(actor !== undefined ? { actor } : {}),
  };
}

/** The token endpoint and the JWKS URL from --sts (a base URL or the token endpoint itself). */
export function stsUrls(sts: string): { tokenUrl: string; jwksUrl: string } {
  const url = new URL(sts);
  if (url.protocol !== 'https:')
    throw new Error('--sts must be an https URL: token-exchange requires mTLS');
  const tokenUrl = url.pathname === '/' ? `${url.origin}/token` : url.href;
  return { tokenUrl, jwksUrl: `${url.origin}/.well-known/jwks.json` };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, OPTIONS, HELP);
  if (!parsed) return 0;
  const v = parsed.values as Values;
  const missing: string[] = (['sts', 'cert', 'key', 'ca'] as const).filter(
    (k) => v[k] === undefined,
  );
  if ((v.audience === undefined) === (v.resource === undefined))
    missing.push('audience or --resource');
  if (missing.length > 0) {
    console.error(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP}`);
    return 2;
  }
  const timeoutMs = Number(v.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    console.error('--timeout must be a positive integer (milliseconds)');
    return 2;
  }
  let tokens: Tokens;
  try {
    tokens = readTokens(v, (line) => console.error(line));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const { tokenUrl, jwksUrl } = stsUrls(v.sts!);
  const cert = readFileSync(v.cert!);
  const ca = readFileSync(v.ca!);
  const result = await callTokenEndpoint({
    tokenUrl,
    form: buildForm(v, tokens),
    cert,
    key: readFileSync(v.key!),
    ca,
    timeoutMs,
  });
  if (result.kind !== 'issued') return reportFailure(result, tokenUrl, cert);
  return reportToken(result.body, { jwksUrl, ca, timeoutMs, raw: v.raw === true });
}

function reportFailure(
  result: Exclude<TokenCallResult, { kind: 'issued' }>,
  url: string,
  cert: Buffer,
): number {
  const lines: string[] = [];
  if (result.kind === 'refused') {
    lines.push(
      `token-exchange refused the request: ${result.error} (HTTP ${result.status})`,
      `  ${result.description}`,
    );
    lines.push(`your client certificate names: ${safeNames(cert)}`, 'what to check:');
    lines.push(...refusalHints(result.error).map((h) => `  - ${h}`));
  } else {
    lines.push(`token-exchange could not be reached: ${result.message}`, 'what to check:');
    lines.push(...transportHints(result.code, url).map((h) => `  - ${h}`));
  }
  console.error(lines.join('\n'));
  return 1;
}

function safeNames(cert: Buffer): string {
  try {
    return describeCertificateNames(cert);
  } catch {
    return '(the --cert file is not a PEM certificate)';
  }
}

async function reportToken(
  body: Record<string, unknown>,
  o: { jwksUrl: string; ca: Buffer; timeoutMs: number; raw: boolean },
): Promise<number> {
  const token = body.access_token as string;
  const signature = await checkSignature(token, o);
  const out = [
    'token-exchange issued a token',
    `  token_type         ${String(body.token_type)}`,
    `  expires_in         ${String(body.expires_in)} s`,
    ...(body.issued_token_type ? [`  issued_token_type  ${String(body.issued_token_type)}`] : []),
    `  signature          ${signature.text}`,
    '',
    'header:',
    JSON.stringify(decodeProtectedHeader(token), null, 2),
    'claims:',
    JSON.stringify(decodeJwt(token), null, 2),
    ...(o.raw ? ['token:', token] : []),
  ];
  console.log(out.join('\n'));
  return signature.ok ? 0 : 1;
}

async function checkSignature(
  token: string,
  o: { jwksUrl: string; ca: Buffer; timeoutMs: number },
): Promise<{ ok: boolean; text: string }> {
  let jwks: JSONWebKeySet;
  try {
    const res = await httpRequest(o.jwksUrl, { timeoutMs: o.timeoutMs, ca: o.ca });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    jwks = JSON.parse(res.body) as JSONWebKeySet;
  } catch (err) {
    return { ok: true, text: `not checked: ${o.jwksUrl} unavailable (${(err as Error).message})` };
  }
  try {
    await jwtVerify(token, createLocalJWKSet(jwks), { clockTolerance: 30 });
    return { ok: true, text: `verified against ${o.jwksUrl}` };
  } catch (err) {
    return { ok: false, text: `DOES NOT VERIFY against ${o.jwksUrl}: ${(err as Error).message}` };
  }
}
