import type { PipelineMode } from './apps/jwtauth-context.js';
import { requestJson } from './apps/http-util.js';
import type { Platform } from './platform.js';
import { startTopology, type Topology } from './topology.js';
import type { Trace } from './trace.js';

export const TELEPORT_USER = 'cloud-teleport-aleksander.rykalin';
export const USERS_ERROR = 'does not exist jwtauth context in client method';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ModeResult {
  readonly mode: PipelineMode;
  /** The saga-delegation run (docs/delegation.md) rather than the plain mode run. */
  readonly delegation?: boolean;
  readonly pass: boolean;
  readonly checks: readonly Check[];
}

/** A check recorder that also writes PASS/FAIL lines to the trace. */
export function checkRecorder(trace: Trace): { checks: Check[]; check: CheckFn } {
  const checks: Check[] = [];
  const check: CheckFn = (name, ok, detail = '') => {
    checks.push({ name, ok, detail });
    trace.add('check', `${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  };
  return { checks, check };
}

/** What `vmctl login` does: a user token from auth.service, good for the gateway and token-exchange. */
export const login = (p: Platform, user: string) =>
  p.auth.mint({ sub: user, aud: ['token-exchange', 'gateway'] });

/** What `vmctl namespace create` does. */
export const createNamespace = (gatewayUrl: string, token: string, name: string, cluster: string) =>
  requestJson(`${gatewayUrl}/v2/clusters/${cluster}/namespaces`, {
    method: 'POST',
    body: { name },
    headers: { authorization: `Bearer ${token}` },
  });

/** Polls a condition; the deadline is patience (the demo also runs as a test on busy machines). */
export async function until<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the users' scenario in one pipeline mode and returns named checks. */
export async function runMode(
  p: Platform,
  mode: PipelineMode,
  trace: Trace,
  options: { restartTokenExchange?: boolean } = {},
): Promise<ModeResult> {
  const { checks, check } = checkRecorder(trace);
  trace.add('demo', `=== mode ${mode === 'exchange' ? 'A: exchange' : 'B: interceptors off'} ===`);
  const t: Topology = await startTopology(p, mode, trace, {
    shortTokens: options.restartTokenExchange ?? false,
  });
  try {
    const token = await login(p, TELEPORT_USER);
    trace.add('vmctl', `login --user ${TELEPORT_USER}`);
    const step: Step = { p, t, trace, check };
    await sagaWithoutThenWithTag(step, token);
    if (mode === 'interceptors-off') await userWithoutPermission(step);
    if (options.restartTokenExchange) await tokenExchangeRestart(step, token);
  } catch (err) {
    check('scenario ran to the end', false, (err as Error).message);
  } finally {
    await t.close();
  }
  return { mode, pass: checks.length > 0 && checks.every((c) => c.ok), checks };
}

export type CheckFn = (name: string, ok: boolean, detail?: string) => void;

/** What each step needs: the platform, the topology, the trace and the check recorder. */
export interface Step {
  readonly p: Platform;
  readonly t: Topology;
  readonly trace: Trace;
  readonly check: CheckFn;
}

async function sagaWithoutThenWithTag({ p, t, trace, check }: Step, token: string): Promise<void> {
  const res = await createNamespace(t.gatewayUrl, token, 'demo', 'cl0');
  trace.add('vmctl', `namespace create demo --cluster cl0 → HTTP ${res.status}`);
  check(
    'gateway accepts CreateNamespace for the Teleport user',
    res.status === 202,
    `HTTP ${res.status}`,
  );
  const id = String(res.body.id);
  const saga = t.gateway.sagas.sagas.get(String(res.body.sagaId))!;
  await until('two failed saga attempts', () => saga.attempts.length >= 2);
  check(
    "untagged saga route: the users' error, and the saga retries",
    saga.attempts.every((a) => !a.ok && (a.error ?? '').includes(USERS_ERROR)),
    `every attempt: "${USERS_ERROR}"`,
  );
  check('nothing written while the route is untagged', !(await p.hasNamespaceRelation(id, 'cl0')));
  await t.tagSagaRoute(true);
  await until('the saga to succeed', () => saga.status === 'succeeded' || undefined);
  check(
    'tagged saga route: the saga succeeds',
    saga.status === 'succeeded',
    `${saga.attempts.length} attempts`,
  );
  const call = t.vmcontroller.calls.findLast(
    (c) => c.outcome === 'created' && c.namespaceId === id,
  );
  check(
    'vmcontroller saw a service JWT with sub=gateway, aud=vmcontroller',
    call?.caller?.sub === 'gateway' && call.caller.aud === 'vmcontroller',
    call?.caller ? `sub=${call.caller.sub} aud=${JSON.stringify(call.caller.aud)}` : 'no call',
  );
  check(
    `relation namespace:${id}#cloud@cloud:cl0 exists in SpiceDB`,
    await p.hasNamespaceRelation(id, 'cl0'),
  );
}

async function userWithoutPermission({ p, t, trace, check }: Step): Promise<void> {
  const before = t.gateway.namespaces.size;
  const res = await createNamespace(t.gatewayUrl, await login(p, 'mallory'), 'nope', 'cl0');
  trace.add('vmctl', `(as mallory) namespace create nope --cluster cl0 → HTTP ${res.status}`);
  check(
    "a user without create_saga gets 403 from the gateway's sidecar; nothing reaches the gateway",
    res.status === 403 &&
      res.body.error === 'permission_denied' &&
      t.gateway.namespaces.size === before,
    `HTTP ${res.status} ${String(res.body.error)}`,
  );
}

async function tokenExchangeRestart({ p, t, trace, check }: Step, token: string): Promise<void> {
  await p.stopTokenExchange();
  trace.add('operator', 'token-exchange STOPPED');
  await new Promise((r) => setTimeout(r, 3_500)); // the cached service token's usable window ends
  const res = await createNamespace(t.gatewayUrl, token, 'during-restart', 'cl0');
  const saga = t.gateway.sagas.sagas.get(String(res.body.sagaId));
  if (!saga) return check('saga created while token-exchange is down', false, `HTTP ${res.status}`);
  await until('a failed attempt while token-exchange is down', () =>
    saga.attempts.some((a) => !a.ok),
  );
  await p.startTokenExchange();
  trace.add('operator', 'token-exchange STARTED again');
  await until(
    'the saga to finish after the restart',
    () => saga.status === 'succeeded' || undefined,
  );
  check(
    'token-exchange restart loses no saga: failed attempts are retried and finish',
    saga.status === 'succeeded' && saga.attempts.some((a) => !a.ok && a.status === 503),
    `${saga.attempts.length} attempts`,
  );
  check(
    'relation written after the restart',
    await p.hasNamespaceRelation(String(res.body.id), 'cl0'),
  );
}
