import { describe, expect, it } from 'vitest';
import {
  createCheckRunner,
  type CheckCall,
  type CheckReply,
  type CheckRunner,
} from '../../../src/check/check-runner.js';
import type { CheckDeps } from '../../../src/check/decide.js';
import { allow, deny, type Decision } from '../../../src/check/decision.js';
import { InFlight } from '../../../src/check/in-flight.js';
import { CONTEXT_EXTENSIONS } from '../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import type { CheckResponse } from '../../../src/envoy/types.js';
import { JwtxError } from '../../../src/errors.js';
import { createLogger, type LogLevel } from '../../../src/log.js';
import { SidecarMetrics } from '../../../src/metrics/sidecar.js';

/** A deferred decision: the check waits until the test settles it. */
function later() {
  let settle!: (d: Decision) => void;
  const promise = new Promise<Decision>((r) => (settle = r));
  return { promise, settle };
}

function setup(
  inbound: () => Decision | Promise<Decision>,
  level: LogLevel = 'info',
): {
  run: CheckRunner;
  inFlight: InFlight;
  metrics: SidecarMetrics;
  logs: string[];
} {
  const logs: string[] = [];
  const metrics = new SidecarMetrics();
  const deps: CheckDeps = {
    inbound,
    outbound: () => allow('passthrough'),
    metrics,
    logger: createLogger(level, (l) => logs.push(l)),
  };
  const inFlight = new InFlight();
  return { run: createCheckRunner(deps, inFlight), inFlight, metrics, logs };
}

const call = (over: Partial<CheckCall> = {}): CheckCall => ({
  request: syntheticCheckRequest({ headers: { 'x-request-id': 'req-1' } }),
  answerBy: undefined,
  explain: false,
  ...over,
});

async function gauge(metrics: SidecarMetrics): Promise<number> {
  return (await metrics.checksInFlight.get()).values[0]?.value ?? 0;
}

async function counted(metrics: SidecarMetrics, labels: Record<string, string>): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('jwtexchange_checks_total');
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith('jwtexchange_checks_total{') && wanted.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** Runs one check; resolves with what the reply received. */
function runOnce(run: CheckRunner, c: CheckCall = call()) {
  return new Promise<{ res: CheckResponse; explained: boolean }>((resolve) =>
    run(c, (res, explanation) => resolve({ res, explained: explanation !== undefined })),
  );
}

describe('createCheckRunner', () => {
  it('replies at once to a synchronous decision, counts it and leaves nothing in flight', async () => {
    const s = setup(() => allow('allowed', [['x-jwtauth-subject', 'alice']]));
    let res: CheckResponse | undefined;
    s.run(call(), (r) => (res = r));
    // Synchronous: answered before run() returns.
    expect(res?.status.code).toBe(0);
    expect(res?.ok_response?.headers[0]?.header).toEqual({
      key: 'x-jwtauth-subject',
      value: 'alice',
    });
    expect(s.inFlight.size).toBe(0);
    expect(await gauge(s.metrics)).toBe(0);
    expect(
      await counted(s.metrics, { direction: 'inbound', decision: 'allow', reason: 'allowed' }),
    ).toBe(1);
  });

  it('keeps an asynchronous check in flight until it is answered', async () => {
    const pending = later();
    const s = setup(() => pending.promise);
    const replied = runOnce(s.run);
    expect(s.inFlight.size).toBe(1);
    expect(await gauge(s.metrics)).toBe(1);
    let idle = false;
    const idling = s.inFlight.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    pending.settle(deny('missing_token', 'no token'));
    const { res } = await replied;
    await idling;
    expect(res.denied_response?.status.code).toBe(401);
    expect(s.inFlight.size).toBe(0);
    expect(await gauge(s.metrics)).toBe(0);
  });

  it('denies a request it cannot read (a throwing request function) as bad_request, direction unknown', async () => {
    const s = setup(() => allow('allowed'));
    const { res } = await runOnce(
      s.run,
      call({
        request: () => {
          throw new JwtxError('bad_request', 'x-jwtexchange-route is repeated');
        },
      }),
    );
    expect(res.denied_response?.status.code).toBe(400);
    expect(res.status.message).toMatch(/^bad_request: /);
    expect(s.inFlight.size).toBe(0);
    expect(await counted(s.metrics, { direction: 'unknown', reason: 'bad_request' })).toBe(1);
  });

  it('sends the direction from the context extensions to the outbound check', async () => {
    const s = setup(() => deny('internal', 'inbound must not run'));
    const { res } = await runOnce(
      s.run,
      call({
        request: syntheticCheckRequest({
          extensions: { [CONTEXT_EXTENSIONS.direction]: 'outbound' },
        }),
      }),
    );
    expect(res.status.code).toBe(0);
    expect(await counted(s.metrics, { direction: 'outbound', reason: 'passthrough' })).toBe(1);
  });

  it('hands an explanation to the reply only when the call asks, even at debug level', async () => {
    const info = setup(() => allow('allowed'));
    expect((await runOnce(info.run, call({ explain: true }))).explained).toBe(true);
    expect((await runOnce(info.run, call({ explain: false }))).explained).toBe(false);
    const debug = setup(() => allow('allowed'), 'debug');
    expect((await runOnce(debug.run, call({ explain: false }))).explained).toBe(false);
    expect(debug.logs.some((l) => JSON.parse(l).explain !== undefined)).toBe(true);
  });

  it.each([
    ['a synchronous', () => allow('allowed')],
    ['an asynchronous', () => Promise.resolve(allow('allowed'))],
  ])(
    'keeps the in-flight count balanced when the reply to %s check throws, and logs it',
    async (_name, decide) => {
      const s = setup(decide);
      let replies = 0;
      const throwing: CheckReply = () => {
        replies++;
        throw new Error('the transport could not send the answer');
      };
      // Neither run() nor a promise it leaves behind may throw (an unhandled rejection would
      // take the sidecar down): vitest fails the run on one.
      expect(() => s.run(call(), throwing)).not.toThrow();
      await s.inFlight.idle();
      expect(replies).toBe(1);
      expect(s.inFlight.size).toBe(0);
      expect(await gauge(s.metrics)).toBe(0);
      const error = s.logs.map((l) => JSON.parse(l)).find((l) => l.level === 'error');
      expect(error).toMatchObject({
        msg: 'check answer could not be sent',
        error: 'the transport could not send the answer',
        requestId: 'req-1',
      });
      // The runner goes on checking.
      expect((await runOnce(s.run)).res.status.code).toBe(0);
      expect(s.inFlight.size).toBe(0);
    },
  );
});
