import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import type { TokenExchangeMetrics } from '../metrics/token-exchange.js';
import type { Allowlist } from './allowlist.js';
import { authenticateClient, type ClientIdentityRule } from './client-identity.js';
import type { TokenExchangeConfig } from './config.js';
import {
  clientCredentialsGrant,
  grantLabel,
  tokenExchangeGrant,
  type Caller,
  type GrantLabel,
  type GrantResult,
} from './grants.js';
import { mediaType, NO_STORE, readBody, sendJson, sendOAuthError } from './http-io.js';
import { OAuthError } from './oauth-error.js';
import { sagaDelegationGrant } from './saga-grant.js';
import type { SagaLookup } from './saga-lookup.js';
import type { SubjectTokens } from './subject-tokens.js';
import type { TokenIssuer } from './token-issuer.js';
import {
  GRANT_CLIENT_CREDENTIALS,
  GRANT_TOKEN_EXCHANGE,
  parseTokenRequest,
  type TokenRequest,
} from './token-request.js';

/** What happened to one token request: for metrics, logs and test harnesses. */
export interface TokenRequestOutcome {
  readonly grant: GrantLabel;
  /** 'issued' or the RFC 6749 error code. */
  readonly result: string;
  readonly service?: string;
}

export interface TokenEndpointDeps {
  readonly config: TokenExchangeConfig;
  readonly allowlist: Allowlist;
  readonly issuer: TokenIssuer;
  readonly subjects: SubjectTokens;
  /** Saga relations in SpiceDB (config `sagas`); undefined when saga delegation is off. */
  readonly sagas?: SagaLookup | undefined;
  readonly logger: Logger;
  readonly metrics: TokenExchangeMetrics;
  readonly onRequest?: (outcome: TokenRequestOutcome) => void;
}

/** Everything that is checked before a grant runs, in order: mTLS, allowlist, form, client_id. */
async function admit(
  req: IncomingMessage,
  deps: TokenEndpointDeps,
  note: (service: string) => void,
): Promise<{ caller: Caller; request: TokenRequest }> {
  const rule: ClientIdentityRule = deps.config.clientIdentity;
  const service = authenticateClient(req.socket as TLSSocket, rule);
  note(service);
  if (!deps.allowlist.has(service)) {
    throw new OAuthError(
      'unauthorized_client',
      `service ${JSON.stringify(service)} is not on the token-exchange allowlist`,
    );
  }
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const request = parseTokenRequest(await readBody(req, deps.config.limits.maxBodyBytes));
  if (request.clientId !== undefined && request.clientId !== service) {
    throw new OAuthError('invalid_client', 'client_id does not match the client certificate');
  }
  return { caller: { service, policy: deps.config.services[service] }, request };
}

async function runGrant(
  request: TokenRequest,
  caller: Caller,
  deps: TokenEndpointDeps,
): Promise<GrantResult> {
  const label = grantLabel(request.grantType, request.subjectTokenType);
  if (label === 'client_credentials') return clientCredentialsGrant(request, caller);
  if (label === 'saga_delegation') return sagaDelegationGrant(request, caller, deps);
  if (label === 'token_exchange') return tokenExchangeGrant(request, caller, deps.subjects);
  throw new OAuthError(
    'unsupported_grant_type',
    `grant_type must be ${GRANT_CLIENT_CREDENTIALS} or ${GRANT_TOKEN_EXCHANGE}`,
  );
}

/** POST /token: RFC 6749 §4.4 client credentials and RFC 8693 token exchange over mTLS. */
export function createTokenEndpoint(deps: TokenEndpointDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let service: string | undefined;
    let grant: GrantLabel = 'none';
    let result = 'issued';
    try {
      if (req.method !== 'POST') {
        throw new OAuthError('invalid_request', 'the token endpoint accepts POST only', {
          status: 405,
        });
      }
      const { caller, request } = await admit(req, deps, (s) => (service = s));
      grant = grantLabel(request.grantType, request.subjectTokenType);
      const granted = await runGrant(request, caller, deps);
      const issued = await deps.issuer.issue(granted.claims);
      sendJson(
        res,
        200,
        {
          access_token: issued.token,
          token_type: 'Bearer',
          expires_in: issued.expiresIn,
          ...(granted.issuedTokenType ? { issued_token_type: granted.issuedTokenType } : {}),
        },
        NO_STORE,
      );
      deps.logger.info('token issued', {
        service,
        grant,
        sub: issued.claims.sub,
        aud: issued.claims.aud,
        jti: issued.claims.jti,
        kid: issued.kid,
        act: issued.claims.act,
        saga: issued.claims.saga,
        expiresIn: issued.expiresIn,
      });
    } catch (err) {
      result = refuse(res, err, deps.logger, { service, grant });
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.tokenExchangeRequests.inc({ grant, result });
      deps.metrics.tokenExchangeRequestDuration.observe({ grant }, seconds);
      deps.onRequest?.({ grant, result, ...(service ? { service } : {}) });
    }
  };
}

/** Sends the RFC 6749 error for err (500 server_error for anything unexpected); returns its code. */
function refuse(
  res: ServerResponse,
  err: unknown,
  logger: Logger,
  fields: Record<string, unknown>,
): string {
  const oauth =
    err instanceof OAuthError
      ? err
      : new OAuthError('server_error', 'the token could not be issued');
  const headers: Record<string, string> = {};
  if (oauth.status === 405) headers.allow = 'POST';
  if (oauth.status === 413) headers.connection = 'close';
  sendOAuthError(res, oauth, headers);
  if (oauth === err) {
    logger.info('token request refused', {
      ...fields,
      error: oauth.code,
      description: oauth.description,
    });
  } else {
    logger.error('token request failed', { ...fields, error: err as Error });
  }
  return oauth.code;
}
