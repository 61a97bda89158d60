import type http from 'node:http';
import type { JWTPayload } from 'jose';

/**
 * How a demo app learns who is calling — the "jwtauth context" of the users' rbac interceptor.
 * - exchange mode: the app validates the internal JWT itself (as the users' apps do today);
 * - interceptors-off mode: the app trusts only the sidecar's verified x-jwtauth-* headers.
 */
export type PipelineMode = 'exchange' | 'interceptors-off';

export interface JwtauthContext {
  readonly sub: string;
  readonly aud: unknown;
  readonly act: unknown;
  readonly clientId: unknown;
  /** The service acting for sub (a saga-delegated token), and the saga it acts in. */
  readonly actor?: string;
  readonly saga?: string;
}

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

export type TokenCheck = (token: string) => Promise<JWTPayload>;

export async function jwtauthContext(
  req: http.IncomingMessage,
  mode: PipelineMode,
  verify: TokenCheck | undefined,
): Promise<JwtauthContext | undefined> {
  let claims: JWTPayload | undefined;
  if (mode === 'interceptors-off') {
    const encoded = req.headers['x-jwtauth-claims'];
    if (typeof encoded === 'string')
      claims = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as JWTPayload;
  } else {
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ') && verify) {
      claims = await verify(auth.slice(7)).catch(() => undefined);
    }
  }
  if (!claims || typeof claims.sub !== 'string') return undefined;
  // Mode B reads the actor and saga from the sidecar's headers; mode A from the token it verified.
  const act = claims.act as { sub?: unknown } | undefined;
  const actor =
    mode === 'interceptors-off'
      ? header(req, 'x-jwtauth-actor')
      : typeof act?.sub === 'string'
        ? act.sub
        : undefined;
  const saga =
    mode === 'interceptors-off'
      ? header(req, 'x-jwtauth-saga')
      : typeof claims.saga === 'string'
        ? claims.saga
        : undefined;
  return {
    sub: claims.sub,
    aud: claims.aud,
    act: claims.act,
    clientId: claims.client_id,
    ...(actor !== undefined ? { actor } : {}),
    ...(saga !== undefined ? { saga } : {}),
  };
}
