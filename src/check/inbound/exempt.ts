import { allow } from '../decision.js';
import { CONTEXT_EXTENSIONS } from '../request-context.js';
import type { Phase } from '../pipeline.js';

/** Routes tagged `jwtexchange.exempt: "true"` (health checks, public docs) skip authentication. */
export const exemptPhase: Phase = {
  name: 'exempt',
  run(ev) {
    const exempt = ev.request.extensions[CONTEXT_EXTENSIONS.exempt] === 'true';
    ev.explain?.add('exempt', exempt ? 'exempt' : 'not_exempt', {
      note: exempt ? `the route sets ${CONTEXT_EXTENSIONS.exempt}: "true"` : undefined,
    });
    return exempt ? allow('exempt') : undefined;
  },
};
