import { describe, expect, it } from 'vitest';
import { deny } from '../../../src/check/decision.js';
import { decide, type CheckDeps } from '../../../src/check/decide.js';
import { CONTEXT_EXTENSIONS } from '../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import { JwtxError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { SidecarMetrics } from '../../../src/metrics/sidecar.js';

function deps(inbound: CheckDeps['inbound'], logs: string[] = []): CheckDeps {
  return {
    inbound,
    outbound: async () => deny('audience_not_allowed', 'outbound called'),
    metrics: new SidecarMetrics(),
    logger: createLogger('debug', (l) => logs.push(l)),
  };
}

describe('decide', () => {
  it('routes by direction', async () => {
    const d = deps(async () => deny('missing_token', 'inbound called'));
    const inbound = await decide(d, syntheticCheckRequest({}));
    const outbound = await decide(
      d,
      syntheticCheckRequest({ extensions: { [CONTEXT_EXTENSIONS.direction]: 'outbound' } }),
    );
    expect(inbound.decision.message).toBe('inbound called');
    expect(outbound.decision.message).toBe('outbound called');
  });

  it('denies an unreadable request as bad_request without calling a pipeline', async () => {
    let called = false;
    const { decision, ctx } = await decide(
      deps(async () => ((called = true), deny('internal', 'x'))),
      { attributes: {} },
    );
    expect(decision).toMatchObject({ allow: false, reason: 'bad_request' });
    expect(ctx).toBeUndefined();
    expect(called).toBe(false);
  });

  it('turns a JwtxError thrown by a pipeline into a denial with its code', async () => {
    const { decision } = await decide(
      deps(async () => {
        throw new JwtxError('jwks_unavailable', 'down');
      }),
      syntheticCheckRequest({}),
    );
    expect(decision).toMatchObject({ allow: false, reason: 'jwks_unavailable', message: 'down' });
  });

  it('fails closed on an unexpected error, logs it, and never echoes its message', async () => {
    const logs: string[] = [];
    const { decision } = await decide(
      deps(async () => {
        throw new TypeError('cannot read secret-ish internals');
      }, logs),
      syntheticCheckRequest({}),
    );
    expect(decision).toEqual(deny('internal', 'internal error'));
    expect(logs.join('\n')).toContain('check failed unexpectedly');
  });
});
