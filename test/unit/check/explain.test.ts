import { describe, expect, it } from 'vitest';
import { allow, deny } from '../../../src/check/decision.js';
import { Explanation, nameList } from '../../../src/check/explain.js';
import {
  decodeExplanation,
  encodeExplanation,
  EXPLAIN_REQUEST_KEY,
  EXPLAIN_TRAILER_KEY,
  type ExplainStep,
} from '../../../src/envoy/explanation-trailer.js';
import type { CheckDeps } from '../../../src/check/decide.js';
import { createCheckRunner } from '../../../src/check/check-runner.js';
import { createCheckHandler } from '../../../src/check/handler.js';
import type { Trailers } from '../../../src/grpc/calls.js';
import { InFlight } from '../../../src/check/in-flight.js';
import { authenticatePhase } from '../../../src/check/inbound/authenticate.js';
import { authorizePhase } from '../../../src/check/inbound/authorize.js';
import { exemptPhase } from '../../../src/check/inbound/exempt.js';
import { identityHeadersPhase } from '../../../src/check/inbound/identity-headers.js';
import { inboundCheck } from '../../../src/check/inbound/inbound-check.js';
import { injectServiceTokenPhase } from '../../../src/check/outbound/inject-token.js';
import { createPipeline, type Phase } from '../../../src/check/pipeline.js';
import { CONTEXT_EXTENSIONS, toRequestContext } from '../../../src/check/request-context.js';
import { ManualClock, ManualTimers } from '../../helpers/manual-time.js';
import { parseConfig } from '../../../src/config/load.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import type { CheckRequest, CheckResponse } from '../../../src/envoy/types.js';
import { VerifiedTokenCache } from '../../../src/jwt/verified-cache.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import { SidecarMetrics } from '../../../src/metrics/sidecar.js';
import { CachedPermissionChecker, DecisionCache } from '../../../src/spicedb/decision-cache.js';
import { compileRules } from '../../../src/config/rules.js';
import { ServiceTokenCache } from '../../../src/tokens/service-token-cache.js';
import { fakeVerifier } from './inbound/fake-verifier.js';

const ctx = (headers: Record<string, string> = {}, extensions: Record<string, string> = {}) =>
  toRequestContext(
    syntheticCheckRequest({ method: 'POST', path: '/v2/c/cl0', headers, extensions }),
  );

const phasesOf = (e: Explanation) => e.steps.map((s) => `${s.phase}:${s.outcome}`);

describe('explanation encoding', () => {
  it('is printable ASCII (a gRPC trailer value) and decodes to the same steps', () => {
    const e = new Explanation();
    e.add('authenticate', 'verified', { subject: 'ünïcødé-用户', kind: 'user', absent: undefined });
    const text = encodeExplanation(e.steps);
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeExplanation(text)).toEqual([
      { phase: 'authenticate', outcome: 'verified', subject: 'ünïcødé-用户', kind: 'user' },
    ]);
  });

  it('rejects what is not an explanation, and bounds long name lists', () => {
    expect(decodeExplanation('not json')).toBeUndefined();
    expect(decodeExplanation('{"phase":"x"}')).toBeUndefined();
    expect(decodeExplanation(undefined)).toBeUndefined();
    const names = Array.from({ length: 40 }, (_, i) => `x-jwtauth-${i}`);
    expect(nameList(names)).toMatch(/x-jwtauth-15 \(\+24 more\)$/);
  });
});

describe('an explained inbound pipeline', () => {
  const cache = new VerifiedTokenCache(100, new ManualClock(Date.UTC(2026, 0, 1)));
  const check = inboundCheck(
    createPipeline(
      [exemptPhase, authenticatePhase(fakeVerifier(), cache), identityHeadersPhase],
      'allowed',
    ),
    'enforce',
  );

  it('records every phase in order, the verified-cache miss then hit, never the token', async () => {
    const first = new Explanation();
    await check(ctx({ authorization: 'Bearer good-alice' }), first);
    expect(phasesOf(first)).toEqual([
      'exempt:not_exempt',
      'authenticate:verified',
      'identity_headers:set',
    ]);
    expect(first.steps[1]).toMatchObject({
      issuer: 'https://issuer',
      subject: 'alice',
      kind: 'user',
      verifiedCache: 'miss',
    });
    const second = new Explanation();
    await check(ctx({ authorization: 'Bearer good-alice' }), second);
    expect(second.steps[1]).toMatchObject({ verifiedCache: 'hit' });
    expect(JSON.stringify([first.steps, second.steps])).not.toContain('good-alice');
  });

  it('records the reason of a denial and of an exempt route', async () => {
    const denied = new Explanation();
    await check(ctx({ authorization: 'Bearer forged' }), denied);
    expect(denied.steps.at(-1)).toMatchObject({
      phase: 'authenticate',
      outcome: 'denied',
      reason: 'invalid_signature',
    });
    const exempt = new Explanation();
    expect(await check(ctx({}, { [CONTEXT_EXTENSIONS.exempt]: 'true' }), exempt)).toMatchObject({
      reason: 'exempt',
    });
    expect(phasesOf(exempt)).toEqual(['exempt:exempt']);
  });

  it('records a dry-run denial as such', async () => {
    const dry = inboundCheck(
      createPipeline([authenticatePhase(fakeVerifier(), cache)], 'allowed'),
      'dry-run',
    );
    const e = new Explanation();
    expect(await dry(ctx(), e)).toMatchObject({ reason: 'dry_run', wouldDeny: 'missing_token' });
    expect(e.steps.at(-1)).toMatchObject({
      phase: 'mode',
      outcome: 'dry_run',
      wouldDeny: 'missing_token',
    });
  });

  it('shows a phase that records nothing with what it returned', async () => {
    const quiet: Phase = { name: 'quiet', run: () => deny('internal', 'x') };
    const e = new Explanation();
    await createPipeline([quiet], 'allowed').run(ctx(), e);
    expect(e.steps).toEqual([{ phase: 'quiet', outcome: 'deny', reason: 'internal' }]);
  });

  it('records nothing and decides the same without an explanation', async () => {
    const d = await check(ctx({ authorization: 'Bearer good-alice' }));
    expect(d).toMatchObject({ allow: true, reason: 'allowed' });
  });
});

describe('an explained authorization', () => {
  function phase(answer: boolean, dryRun = false) {
    const config = parseConfig({
      spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
      authorization: {
        default: 'allow',
        rules: [
          {
            name: 'create-saga',
            match: { http: 'POST /v2/c/{cluster}' },
            resource: { type: 'cloud', id: { param: 'cluster' } },
            permission: 'create_saga',
            dryRun,
          },
        ],
      },
    });
    let calls = 0;
    const checker = new CachedPermissionChecker(
      { check: async () => (calls++, answer) },
      new DecisionCache(100, 60_000, new ManualClock()),
    );
    const a = config.authorization!;
    return {
      calls: () => calls,
      pipeline: createPipeline(
        [
          authenticatePhase(fakeVerifier(), new VerifiedTokenCache(0, new ManualClock())),
          authorizePhase({
            rules: compileRules(a),
            defaultDecision: a.default,
            subjects: a.subjects,
            zedTokenHeader: a.zedTokenHeader,
            checker,
            logger: silentLogger,
          }),
        ],
        'allowed',
      ),
    };
  }
  const authorize = (e: Explanation) => e.steps.find((s) => s.phase === 'authorize');

  it('names the rule, the relationship with encoded ids, the answer and the decision cache', async () => {
    const p = phase(true);
    const user = { authorization: 'Bearer good-cloud-teleport-aleksander.rykalin' };
    const first = new Explanation();
    await p.pipeline.run(ctx(user), first);
    expect(authorize(first)).toEqual({
      phase: 'authorize',
      outcome: 'allowed',
      rule: 'create-saga',
      // The id as SpiceDB sees it: '.' is encoded (docs/authorization.md).
      check: 'cloud:cl0#create_saga@user:cloud-teleport-aleksander=2Erykalin',
      answer: 'HAS_PERMISSION',
      decisionCache: 'miss',
    });
    const second = new Explanation();
    await p.pipeline.run(ctx(user), second);
    expect(authorize(second)).toMatchObject({ decisionCache: 'hit', answer: 'HAS_PERMISSION' });
    expect(p.calls()).toBe(1);
  });

  it('records a refusal, a dry-run rule, and the default when no rule matches', async () => {
    const user = { authorization: 'Bearer good-mallory' };
    const denied = new Explanation();
    await phase(false).pipeline.run(ctx(user), denied);
    expect(authorize(denied)).toMatchObject({
      outcome: 'denied',
      answer: 'NO_PERMISSION',
      reason: 'permission_denied',
    });
    const dry = new Explanation();
    await phase(false, true).pipeline.run(ctx(user), dry);
    expect(authorize(dry)).toMatchObject({ outcome: 'would_deny', reason: 'permission_denied' });
    const none = new Explanation();
    const other = toRequestContext(
      syntheticCheckRequest({ method: 'GET', path: '/other', headers: user }),
    );
    await phase(true).pipeline.run(other, none);
    expect(authorize(none)).toMatchObject({ outcome: 'no_rule', default: 'allow' });
  });
});

describe('an explained outbound check', () => {
  const clock = new ManualClock();
  let fetches = 0;
  const cache = new ServiceTokenCache({
    fetch: async () => ({
      accessToken: `service-token-${++fetches}`,
      issuedAtMs: clock.now(),
      expiresAtMs: clock.now() + 600_000,
    }),
    clock,
    timers: new ManualTimers(clock),
    settings: {
      refreshAt: 0.5,
      jitter: 0,
      safetyMarginMs: 30_000,
      minBackoffMs: 1_000,
      maxBackoffMs: 8_000,
      refusalTtlMs: 20_000,
    },
  });
  const pipeline = createPipeline(
    [injectServiceTokenPhase(new Map([['vmcontroller', new Set<string>()]]), cache)],
    'injected',
  );
  const run = async (headers: Record<string, string>, ext: Record<string, string>) => {
    const e = new Explanation();
    const d = await pipeline.run(
      ctx(headers, { [CONTEXT_EXTENSIONS.direction]: 'outbound', ...ext }),
      e,
    );
    return { d, step: e.steps[0]! };
  };

  it('says why a route passed through: untagged, or the when-header absent', async () => {
    const untagged = await run({}, {});
    expect(untagged.d.reason).toBe('passthrough');
    expect(untagged.step.note).toMatch(/untagged route/);
    const skipped = await run(
      {},
      {
        [CONTEXT_EXTENSIONS.audience]: 'vmcontroller',
        [CONTEXT_EXTENSIONS.whenHeader]: 'X-Saga-Id',
      },
    );
    expect(skipped.d.reason).toBe('passthrough');
    expect(skipped.step).toMatchObject({ outcome: 'passthrough', audience: 'vmcontroller' });
    expect(skipped.step.note).toContain('no x-saga-id header');
  });

  it('says whether the service token was fetched or cached, never the token', async () => {
    const tagged = {
      [CONTEXT_EXTENSIONS.audience]: 'vmcontroller',
      [CONTEXT_EXTENSIONS.whenHeader]: 'x-saga-id',
    };
    const cold = await run({ 'x-saga-id': 's-1' }, tagged);
    expect(cold.step).toMatchObject({ outcome: 'injected', serviceToken: 'token-exchange' });
    const warm = await run({ 'x-saga-id': 's-1' }, tagged);
    expect(warm.d.reason).toBe('injected');
    expect(warm.step).toMatchObject({ outcome: 'injected', serviceToken: 'cache' });
    expect(JSON.stringify([cold.step, warm.step])).not.toContain('service-token-');
    const off = await run({}, { [CONTEXT_EXTENSIONS.audience]: 'billing' });
    expect(off.step).toMatchObject({ outcome: 'denied', reason: 'audience_not_allowed' });
  });
});

describe('the Check handler', () => {
  /** Runs the handler on a fake call; returns the response, the trailer and the explain argument. */
  async function call(opts: { level: 'debug' | 'info'; metadata?: Record<string, string> }) {
    const seen: (Explanation | undefined)[] = [];
    const logs: string[] = [];
    const deps: CheckDeps = {
      inbound: (_ctx, explain) => {
        seen.push(explain);
        explain?.add('authenticate', 'verified', { subject: 'alice' });
        return allow('allowed', [['x-jwtauth-subject', 'alice']]);
      },
      outbound: () => deny('internal', 'unused'),
      metrics: new SidecarMetrics(),
      logger: createLogger(opts.level, (l) => logs.push(l)),
    };
    const metadata = opts.metadata ?? {};
    const request: CheckRequest = syntheticCheckRequest({
      headers: { [EXPLAIN_REQUEST_KEY]: 'true', authorization: 'Bearer eyJh.eyJz.c2ln' },
    });
    const done = new Promise<{ res: CheckResponse; trailer: Trailers | undefined }>((resolve) => {
      createCheckHandler(createCheckRunner(deps, new InFlight()))(
        // No deadline, like a caller without grpc-timeout.
        { request, header: (name) => metadata[name], deadline: Infinity },
        (_err, res, trailer) => resolve({ res: res!, trailer }),
      );
    });
    const { res, trailer } = await done;
    return { res, trailer, explain: seen[0], logs };
  }

  const trailerSteps = (t: Trailers | undefined): ExplainStep[] | undefined =>
    decodeExplanation(t?.[EXPLAIN_TRAILER_KEY]);

  it('explains in a trailer only when the call metadata asks, whatever the request headers say', async () => {
    const asked = await call({ level: 'info', metadata: { [EXPLAIN_REQUEST_KEY]: 'true' } });
    expect(trailerSteps(asked.trailer)?.map((s) => s.phase)).toEqual([
      'request',
      'authenticate',
      'decision',
    ]);
    expect(trailerSteps(asked.trailer)?.at(-1)).toMatchObject({
      outcome: 'allow',
      reason: 'allowed',
      set: 'x-jwtauth-subject',
    });
    // The synthetic request carries jwtexchange-explain as an HTTP header: that asks for nothing.
    const notAsked = await call({ level: 'info' });
    expect(notAsked.trailer).toBeUndefined();
    expect(notAsked.explain).toBeUndefined();
    expect(JSON.stringify(notAsked.res)).not.toContain('verified');
  });

  it('builds the explanation for the debug decision log, without sending it', async () => {
    const debug = await call({ level: 'debug' });
    expect(debug.trailer).toBeUndefined();
    const line = JSON.parse(debug.logs.find((l) => l.includes('"msg":"allow"'))!);
    expect(line.explain.map((s: ExplainStep) => s.phase)).toEqual([
      'request',
      'authenticate',
      'decision',
    ]);
    expect(debug.logs.join('\n')).not.toContain('eyJh');
  });
});
