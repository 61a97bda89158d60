import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepBanner } from '../../demo/banner.js';
import { runDelegation } from '../../demo/delegation.js';
import { startPlatform, type Platform } from '../../demo/platform.js';
import { runMode, USERS_ERROR, type ModeResult } from '../../demo/scenario.js';
import { startTopology } from '../../demo/topology.js';
import { Trace } from '../../demo/trace.js';
import { runPrinted } from '../helpers/cli.js';
import { runLogSink } from '../helpers/run-logs.js';

/**
 * The users' scenario (docs/walkthrough.md), the same code as `npm run demo`: gateway saga →
 * vmcontroller → SpiceDB through real Envoy sidecars, real token-exchange, real SpiceDB, in both
 * pipeline modes. Each mode: untagged saga route (the users' error, retried), then tagged
 * (namespace created with a service identity). Mode B adds a user without create_saga and a
 * token-exchange restart during a saga. Then mode B with saga delegation (docs/delegation.md):
 * the saga acts for the user who started it, as the gateway, and for nothing else.
 */
describe('the users\u2019 scenario', () => {
  let platform: Platform;
  const results = new Map<string, ModeResult>();
  const printed: string[] = [];
  const sinks = new Map<string, (line: string) => void>();
  const raw = (sidecar: string, line: string) => {
    if (!sinks.has(sidecar)) sinks.set(sidecar, runLogSink(`demo-sidecar-${sidecar}`));
    sinks.get(sidecar)!(line);
  };
  const trace = new Trace((l) => {
    printed.push(l);
    if (process.env.JWTX_TEST_LOGS) console.log(l);
  }, raw);

  beforeAll(async () => {
    platform = await startPlatform();
    results.set('exchange', await runMode(platform, 'exchange', trace));
    results.set(
      'interceptors-off',
      await runMode(platform, 'interceptors-off', trace, { restartTokenExchange: true }),
    );
    results.set('delegation', await runDelegation(platform, trace));
  });
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

  describe('mode B with saga delegation', () => {
    it('vmcontroller creates the namespace for the user, by the gateway, in the saga', () => {
      passed(
        'delegation',
        /^vmcontroller created the namespace for cloud-teleport-aleksander\.rykalin by gateway in saga saga-[0-9a-f]+$/,
      );
      passed('delegation', /^relation namespace:[0-9a-f]+#cloud@cloud:cl0 exists in SpiceDB$/);
    });

    it("vmcontroller's sidecar checks the user's permission, not the gateway's", () => {
      passed('delegation', /^vmcontroller's sidecar checked the user's create_saga/);
    });

    it('a saga whose relations were never written is refused, and nothing is written', () => {
      passed('delegation', /^a saga whose relations were never written is refused/);
    });

    it('a user without the permission gets no namespace through a saga either', () => {
      passed('delegation', /^a user without create_saga gets no namespace through a saga either/);
    });

    it('a finished saga acts for nobody, and every check of the run passes', () => {
      passed('delegation', /^the finished saga no longer acts for anyone/);
      expect(results.get('delegation')!.checks.filter((c) => !c.ok)).toEqual([]);
      expect(results.get('delegation')!.pass).toBe(true);
    });

    it('the trace names the user, the gateway and the saga', () => {
      const text = trace.lines.map((l) => `${l.who} ${l.text}`).join('\n');
      expect(text).toMatch(
        /vmcontroller created namespace [0-9a-f]+ for cloud-teleport-aleksander\.rykalin by gateway in saga saga-[0-9a-f]+/,
      );
      expect(text).toMatch(/sidecar:gateway\s*outbound ALLOW delegated/);
      expect(text).toMatch(/sidecar:gateway\s*outbound DENY delegation_refused/);
      expect(text).toMatch(/sidecar:vmcontroller\s*inbound DENY permission_denied/);
    });
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
  it('prints a long error once per scenario, and no line twice in a row', () => {
    const full = printed.filter((l) => l.includes(`${USERS_ERROR} - /authzed`));
    expect(full.length).toBeGreaterThan(0);
    expect(full.length).toBeLessThanOrEqual(2); // once per mode: the namespace id differs
    expect(printed.some((l) => /failed \(500\) \(same as at \d+\.\d+s\)/.test(l))).toBe(true);
    trace.flush();
    for (let i = 1; i < printed.length; i++) expect(printed[i]).not.toBe(printed[i - 1]);
  });

  it('--keep prints the sidecars\u2019 ext_authz addresses, and its check commands work as printed', async () => {
    const t = await startTopology(platform, 'exchange', trace);
    try {
      await t.tagSagaRoute(true);
      const banner = keepBanner(t);
      expect(banner).toContain(`gateway sidecar, ext_authz         ${t.sidecars.gateway}`);
      expect(banner).toContain(`vmcontroller sidecar, ext_authz    ${t.sidecars.vmcontroller}`);
      const commands = banner
        .split('\n')
        .filter((l) => l.trim().startsWith('npx jwtexchange check'));
      expect(commands).toHaveLength(2);
      const outbound = await runPrinted(commands[0]!.trim());
      expect(outbound.code, outbound.stderr).toBe(0);
      expect(outbound.stdout).toMatch(/reason {2}injected/);
      expect(outbound.stdout).toMatch(/inject_service_token\s+injected {2}audience=vmcontroller/);
      const inbound = await runPrinted(commands[1]!.trim());
      // vmcontroller's sidecar runs in dry-run: no token would be denied, and is let through.
      expect(inbound.code, inbound.stderr).toBe(0);
      expect(inbound.stdout).toMatch(/reason {2}dry_run/);
      expect(inbound.stdout).toContain('would deny: missing_token');
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('the --keep banner with --delegation', () => {
  it('adds a check of the delegation route', () => {
    const banner = keepBanner({
      mode: 'interceptors-off',
      delegation: true,
      gatewayUrl: 'http://127.0.0.1:1',
      sidecars: { gateway: '127.0.0.1:2', vmcontroller: '127.0.0.1:3' },
    });
    expect(banner).toContain('(mode interceptors-off, saga delegation) is running');
    expect(banner).toContain(
      "--server 127.0.0.1:2 --explain --direction outbound --ext jwtexchange.audience=vmcontroller --ext jwtexchange.delegation=saga -H 'x-saga-id: saga-0'",
    );
  });
});

describe('the demo trace', () => {
  it('prints a long detail once, then refers to it, and counts a repeated line', () => {
    const out: string[] = [];
    const trace = new Trace((l) => out.push(l));
    const error = `token-exchange unreachable: ${'x'.repeat(80)}`;
    trace.add('sidecar:gateway', 'WARN service token exchange failed:', error);
    trace.add('sidecar:gateway', 'WARN service token exchange failed:', error);
    trace.add('sidecar:gateway', 'WARN service token exchange failed:', error);
    trace.add('gateway saga', 's-1 attempt 2: failed (503)', error);
    trace.add('check', 'PASS short detail', '— HTTP 202');
    trace.add('check', 'PASS short detail again', '— HTTP 202');
    expect(out).toHaveLength(5);
    expect(out[0]).toContain(error);
    expect(out[1]).toMatch(/\(the line above repeated 2 more times\)$/);
    expect(out[2]).toMatch(/s-1 attempt 2: failed \(503\) \(same as at \d+\.\d+s\)$/);
    expect(out[2]).not.toContain('xxxx');
    expect(out[4]).toContain('— HTTP 202');
    expect(trace.lines.every((l) => l.who !== 'sidecar:gateway' || l.text.includes(error))).toBe(
      true,
    );
  });
});
