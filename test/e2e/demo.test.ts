import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../demo/platform.js';
import { runMode, type ModeResult } from '../../demo/scenario.js';
import { Trace } from '../../demo/trace.js';

/**
 * The users' scenario (docs/walkthrough.md), the same code as `npm run demo`: gateway saga →
 * vmcontroller → SpiceDB through real Envoy sidecars, real token-exchange, real SpiceDB, in both
 * pipeline modes. Each mode: untagged saga route (the users' error, retried), then tagged
 * (namespace created with a service identity). Mode B adds a user without create_saga and a
 * token-exchange restart during a saga.
 */
describe('the users\u2019 scenario', () => {
  let platform: Platform;
  const results = new Map<string, ModeResult>();
  const trace = new Trace(process.env.JWTX_TEST_LOGS ? (l) => console.log(l) : undefined);

  beforeAll(async () => {
    platform = await startPlatform();
    results.set('exchange', await runMode(platform, 'exchange', trace));
    results.set(
      'interceptors-off',
      await runMode(platform, 'interceptors-off', trace, { restartTokenExchange: true }),
    );
  }, 120_000);
  afterAll(async () => platform?.close());

  const passed = (mode: string, name: string | RegExp) => {
    const check = results
      .get(mode)!
      .checks.find((c) => (typeof name === 'string' ? c.name === name : name.test(c.name)));
    expect(check, `no check ${String(name)} in mode ${mode}`).toBeDefined();
    expect(check!.ok, `${check!.name}: ${check!.detail}`).toBe(true);
  };

  for (const mode of ['exchange', 'interceptors-off']) {
    describe(`mode ${mode}`, () => {
      it('untagged: the saga fails with the users\u2019 error, retries, and writes nothing', () => {
        passed(mode, "untagged saga route: the users' error, and the saga retries");
        passed(mode, 'nothing written while the route is untagged');
      });

      it('tagged: the saga succeeds as the gateway service and the relation is in SpiceDB', () => {
        passed(mode, 'gateway accepts CreateNamespace for the Teleport user');
        passed(mode, 'tagged saga route: the saga succeeds');
        passed(mode, 'vmcontroller saw a service JWT with sub=gateway, aud=vmcontroller');
        passed(mode, /^relation namespace:[0-9a-f]+#cloud@cloud:cl0 exists in SpiceDB$/);
      });

      it('passes every check of the mode', () => {
        const failed = results.get(mode)!.checks.filter((c) => !c.ok);
        expect(failed).toEqual([]);
        expect(results.get(mode)!.pass).toBe(true);
      });
    });
  }

  it('mode B: a user without create_saga gets 403 from the gateway sidecar and nothing is written', () => {
    passed('interceptors-off', /^a user without create_saga gets 403/);
  });

  it('mode B: restarting token-exchange loses no saga', () => {
    passed(
      'interceptors-off',
      'token-exchange restart loses no saga: failed attempts are retried and finish',
    );
    passed('interceptors-off', 'relation written after the restart');
  });

  it('the trace shows who called whom, with which identity, and what each sidecar decided', () => {
    const text = trace.lines.map((l) => `${l.who} ${l.text}`).join('\n');
    expect(text).toMatch(/sidecar:gateway\s*outbound ALLOW injected/);
    expect(text).toMatch(/sidecar:vmcontroller\s*inbound DRY-RUN \(would deny\) missing_token/);
    expect(text).toMatch(
      /vmcontroller created namespace [0-9a-f]+ — caller sub=gateway aud="vmcontroller"/,
    );
    expect(text).toContain(
      'does not exist jwtauth context in client method - /authzed.api.v1.PermissionsService/WriteRelationships',
    );
  });
});
