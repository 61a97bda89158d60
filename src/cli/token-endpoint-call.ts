import { HttpClientError, httpRequest } from '../net/http-client.js';

/** A minimal token endpoint client for `jwtexchange token` (the sidecar has its own in src/tokens). */
export interface TokenCallOptions {
  readonly tokenUrl: string;
  readonly form: URLSearchParams;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly timeoutMs: number;
}

export type TokenCallResult =
  | { readonly kind: 'issued'; readonly body: Record<string, unknown> }
  | {
      readonly kind: 'refused';
      readonly status: number;
      readonly error: string;
      readonly description: string;
    }
  | { readonly kind: 'unreachable'; readonly code?: string; readonly message: string };

export async function callTokenEndpoint(o: TokenCallOptions): Promise<TokenCallResult> {
  let status: number;
  let text: string;
  try {
    ({ status, body: text } = await httpRequest(o.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: o.form.toString(),
      timeoutMs: o.timeoutMs,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
    }));
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    const code =
      err instanceof HttpClientError && err.kind === 'timeout' ? 'ETIMEDOUT' : cause?.code;
    return { kind: 'unreachable', code, message: (err as Error).message };
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {
      kind: 'refused',
      status,
      error: 'invalid_response',
      description: `HTTP ${status} without a JSON body`,
    };
  }
  if (status === 200 && typeof body.access_token === 'string') return { kind: 'issued', body };
  return {
    kind: 'refused',
    status,
    error: typeof body.error === 'string' ? body.error : 'invalid_response',
    description:
      typeof body.error_description === 'string' ? body.error_description : `HTTP ${status}`,
  };
}
