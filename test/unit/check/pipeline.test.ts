import { describe, expect, it } from 'vitest';
import { allow, deny, type Decision } from '../../../src/check/decision.js';
import { Explanation } from '../../../src/check/explain.js';
import { createPipeline, type Phase, type PhaseResult } from '../../../src/check/pipeline.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';

/** A phase by what it does: `go` (undefined), `set` (adds a header), `dry` (a would-be denial), or a decision; `async` returns it as a promise. */
type Step = 'go' | 'set' | 'dry' | 'allow' | 'deny';

function phase(name: string, step: Step, async = false, ran: string[] = []): Phase {
  const result = (ev: Parameters<Phase['run']>[0]): PhaseResult => {
    ran.push(name);
    if (step === 'set') ev.setHeaders.push([`x-${name}`, '1']);
    if (step === 'dry')
      ev.wouldDeny = { reason: 'permission_denied', message: `${name} would deny` };
    if (step === 'allow') return allow('exempt');
    if (step === 'deny') return deny('missing_token', `${name} denied`);
    return undefined;
  };
  return { name, run: (ev) => (async ? Promise.resolve(result(ev)) : result(ev)) };
}

const request = () => toRequestContext(syntheticCheckRequest({}));

// [case, phases as name:step[:async], decision reason, allowed, phases that ran, headers set]
const TABLE: [string, string[], string, boolean, string[], string[]][] = [
  ['no phase stops: the final reason', ['a:go', 'b:go'], 'allowed', true, ['a', 'b'], []],
  ['headers phases add are set', ['a:set', 'b:set'], 'allowed', true, ['a', 'b'], ['x-a', 'x-b']],
  ['a denial ends the check', ['a:go', 'b:deny', 'c:go'], 'missing_token', false, ['a', 'b'], []],
  ['an early allow ends it too', ['a:allow', 'b:deny'], 'exempt', true, ['a'], []],
  [
    'an async denial ends it',
    ['a:go:async', 'b:deny:async', 'c:go'],
    'missing_token',
    false,
    ['a', 'b'],
    [],
  ],
  [
    'async then sync phases run in order',
    ['a:set:async', 'b:set', 'c:set:async'],
    'allowed',
    true,
    ['a', 'b', 'c'],
    ['x-a', 'x-b', 'x-c'],
  ],
  [
    'a would-be denial ends as dry_run, allowed',
    ['a:dry', 'b:set'],
    'dry_run',
    true,
    ['a', 'b'],
    ['x-b'],
  ],
];

describe('createPipeline', () => {
  it.each(TABLE)('%s', async (_, steps, reason, allowed, ran, headers) => {
    const order: string[] = [];
    const phases = steps.map((s) => {
      const [name, step, async] = s.split(':');
      return phase(name!, step as Step, async === 'async', order);
    });
    const d: Decision = await createPipeline(phases, 'allowed').run(request());
    expect(d.reason).toBe(reason);
    expect(d.allow).toBe(allowed);
    expect(order).toEqual(ran);
    expect(d.setHeaders.map(([k]) => k)).toEqual(headers);
    if (reason === 'dry_run') expect(d.wouldDeny).toBe('permission_denied');
  });

  it('answers synchronously when every phase did (the warm path: no promise per check)', () => {
    const d = createPipeline([phase('a', 'set'), phase('b', 'go')], 'injected').run(request());
    expect(d).not.toBeInstanceOf(Promise);
    expect((d as Decision).reason).toBe('injected');
  });

  it('observes only phases that went asynchronous', async () => {
    const seen: string[] = [];
    const p = createPipeline(
      [phase('sync', 'go'), phase('remote', 'go', true)],
      'allowed',
      (name) => seen.push(name),
    );
    await p.run(request());
    expect(seen).toEqual(['remote']);
  });

  it("answers with a phase's own denial when it is still waiting at the request's deadline", async () => {
    const hanging: Phase = {
      name: 'remote',
      onDeadline: { reason: 'spicedb_unavailable', message: 'late' },
      run: () => new Promise<PhaseResult>(() => undefined),
    };
    const ctx = { ...request(), answerBy: Date.now() + 20 };
    const d = await createPipeline([hanging], 'allowed').run(ctx);
    expect(d).toMatchObject({ allow: false, reason: 'spicedb_unavailable', message: 'late' });
  });

  it('records a phase that said nothing in the explanation, with what it returned', async () => {
    const explain = new Explanation();
    await createPipeline([phase('a', 'go'), phase('b', 'deny', true)], 'allowed').run(
      request(),
      explain,
    );
    expect(explain.steps).toEqual([
      { phase: 'a', outcome: 'passed' },
      { phase: 'b', outcome: 'deny', reason: 'missing_token' },
    ]);
  });
});
