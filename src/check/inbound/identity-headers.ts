import type { Phase } from '../pipeline.js';

/**
 * Response phase: hands the app the verified identity (x-jwtauth-*). It runs last, so earlier
 * phases may still replace the identity (token exchange) before anything is forwarded.
 */
export const identityHeadersPhase: Phase = {
  name: 'identity_headers',
  run(ev) {
    if (ev.identity) ev.setHeaders.push(...ev.identity.headers);
    return undefined;
  },
};
