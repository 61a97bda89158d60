import { nameList } from '../explain.js';
import type { Phase } from '../pipeline.js';

/**
 * Response phase: hands the app the verified identity (x-jwtauth-*). It runs last, so earlier
 * phases may still replace the identity (token exchange) before anything is forwarded.
 */
export const identityHeadersPhase: Phase = {
  name: 'identity_headers',
  run(ev) {
    if (ev.identity) ev.setHeaders.push(...ev.identity.headers);
    ev.explain?.add('identity_headers', ev.identity ? 'set' : 'none', {
      headers: ev.identity ? nameList(ev.identity.headers.map(([k]) => k)) : undefined,
    });
    return undefined;
  },
};
