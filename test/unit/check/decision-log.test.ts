import { describe, expect, it } from 'vitest';
import { allow, deny, type Decision } from '../../../src/check/decision.js';
import { explainDecision, logDecision } from '../../../src/check/decision-log.js';
import { Explanation } from '../../../src/check/explain.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import { createLogger, type LogLevel } from '../../../src/log.js';

function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return { lines, logger };
}

const ctx = toRequestContext(syntheticCheckRequest({ method: 'POST', path: '/v2/namespaces/a' }));
const dryRun: Decision = { ...allow('dry_run'), wouldDeny: 'permission_denied' };

describe('logDecision', () => {
  it.each<[string, Decision, LogLevel, string | undefined, string | undefined]>([
    ['a denial', deny('token_expired', 'exp 10 s ago'), 'info', 'deny', 'token_expired'],
    ['a dry-run denial', dryRun, 'info', 'dry-run deny', 'permission_denied'],
    ['an allow at info', allow('allowed'), 'info', undefined, undefined],
    ['an allow at debug', allow('allowed'), 'debug', 'allow', 'allowed'],
  ])('logs %s', (_name, decision, level, msg, reason) => {
    const { lines, logger } = capture(level);
    logDecision(logger, decision, ctx, 'inbound', undefined);
    if (msg === undefined) {
      expect(lines).toEqual([]);
      return;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg, reason, direction: 'inbound', path: '/v2/namespaces/a' });
  });

  it('logs a denial at info with its message and method', () => {
    const { lines, logger } = capture('warn');
    logDecision(logger, deny('token_expired', 'exp 10 s ago'), ctx, 'inbound', undefined);
    expect(lines).toEqual([]);
    const info = capture('info');
    logDecision(info.logger, deny('token_expired', 'exp 10 s ago'), ctx, 'inbound', undefined);
    expect(info.lines[0]).toMatchObject({
      level: 'info',
      message: 'exp 10 s ago',
      method: 'POST',
    });
  });

  it('logs without a request context (a CheckRequest that could not be read)', () => {
    const { lines, logger } = capture('info');
    logDecision(logger, deny('bad_request', 'no HTTP attributes'), undefined, 'unknown', undefined);
    expect(lines[0]).toMatchObject({ msg: 'deny', reason: 'bad_request', direction: 'unknown' });
  });
});

describe('explainDecision', () => {
  it('adds the decision as the last step, with the headers it sets and removes', () => {
    const explain = new Explanation();
    explainDecision(
      explain,
      allow('allowed', [['x-jwtauth-subject', 'alice']], ['x-jwtauth-role']),
    );
    explainDecision(explain, deny('permission_denied', 'no'));
    explainDecision(explain, dryRun);
    expect(explain.steps).toEqual([
      {
        phase: 'decision',
        outcome: 'allow',
        reason: 'allowed',
        set: 'x-jwtauth-subject',
        removed: 'x-jwtauth-role',
      },
      { phase: 'decision', outcome: 'deny', reason: 'permission_denied' },
      { phase: 'decision', outcome: 'allow', reason: 'dry_run', wouldDeny: 'permission_denied' },
    ]);
  });
});
