import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenExchangeConfig } from './config.js';
import { sendJson } from './http-io.js';
import type { KeyStore } from './key-store.js';
import {
  discoveryDocument,
  discoveryPaths,
  JWKS_PATH,
  sendJwks,
  TOKEN_PATH,
} from './well-known.js';

export interface RouterDeps {
  readonly config: TokenExchangeConfig;
  readonly keyStore: KeyStore;
  readonly token: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The server's own URL, known once it listens. */
  readonly baseUrl: () => string;
}

/** POST /token, GET the JWKS and the discovery document; everything else is 404/405. */
export function createRouter(deps: RouterDeps) {
  // JWKS caches must not outlive the window in which the next key is announced.
  const jwksMaxAge = Math.min(300, deps.config.keys.publishAheadSeconds);
  const metadataPaths = new Set(discoveryPaths(deps.config.issuer));
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === TOKEN_PATH) return void deps.token(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
    }
    if (path === JWKS_PATH) return sendJwks(res, deps.keyStore, jwksMaxAge);
    if (metadataPaths.has(path)) {
      return sendJson(res, 200, discoveryDocument(deps.config.issuer, deps.baseUrl()));
    }
    sendJson(res, 404, { error: 'not_found' });
  };
}
