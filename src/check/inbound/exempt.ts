import { allow } from '../decision.js';
import { EXT } from '../request-context.js';
import type { Phase } from '../pipeline.js';

/** Routes tagged `jwtexchange.exempt: "true"` (health checks, public docs) skip authentication. */
export const exemptPhase: Phase = {
  name: 'exempt',
  run: (ev) => (ev.request.extensions[EXT.exempt] === 'true' ? allow('exempt') : undefined),
};
