import type { Platform } from './platform.js';
import {
  checkRecorder,
  createNamespace,
  login,
  TELEPORT_USER,
  until,
  type ModeResult,
  type Step,
} from './scenario.js';
import { startTopology } from './topology.js';
import type { Trace } from './trace.js';

/** The Teleport user as the gateway writes it into SpiceDB (x-jwtauth-spicedb-subject). */
const TELEPORT_SUBJECT = 'user:cloud-teleport-aleksander=2Erykalin';

/**
 * Mode B with saga delegation (docs/delegation.md): the gateway records who started each saga
 * (saga:<id>#initiator / #executor in SpiceDB, expiring), the saga's call to vmcontroller carries a
 * token that acts for that user (sub) as the gateway (act.sub), and vmcontroller's sidecar checks
 * the *user's* permission on the cluster. A saga without relations, and a saga for a user without
 * the permission, get nothing written.
 */
export async function runDelegation(p: Platform, trace: Trace): Promise<ModeResult> {
  const { checks, check } = checkRecorder(trace);
  trace.add('demo', '=== mode B + saga delegation: the saga acts for the user who started it ===');
  const t = await startTopology(p, 'interceptors-off', trace, { delegation: true });
  try {
    await t.tagSagaRoute(true);
    const step: Step = { p, t, trace, check };
    await sagaActsForTheUser(step);
    await sagaWithoutRelations(step);
    await sagaForUserWithoutPermission(step);
  } catch (err) {
    check('delegation scenario ran to the end', false, (err as Error).message);
  } finally {
    await t.close();
  }
  return {
    mode: 'interceptors-off',
    delegation: true,
    pass: checks.length > 0 && checks.every((c) => c.ok),
    checks,
  };
}

async function vmcontrollerCheckedTheUser({ t }: Step): Promise<number> {
  const text = await t.vmcontrollerSidecar.metrics.registry.getSingleMetricAsString(
    'jwtexchange_spicedb_checks_total',
  );
  const line = text
    .split('\n')
    .find((l) => /resource_type="cloud",permission="create_saga",result="allowed"/.test(l));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function sagaActsForTheUser(step: Step): Promise<void> {
  const { p, t, trace, check } = step;
  const res = await createNamespace(
    t.gatewayUrl,
    await login(p, TELEPORT_USER),
    'delegated',
    'cl0',
  );
  trace.add('vmctl', `namespace create delegated --cluster cl0 → HTTP ${res.status}`);
  const sagaId = String(res.body.sagaId);
  const saga = t.gateway.sagas.sagas.get(sagaId);
  if (res.status !== 202 || !saga)
    return check('gateway starts the saga', false, `HTTP ${res.status}`);
  trace.add(
    'gateway',
    `wrote saga:${sagaId}#initiator@${TELEPORT_SUBJECT} and #executor@service:gateway (expiring)`,
  );
  await until('the delegated saga to succeed', () => saga.status === 'succeeded' || undefined);
  const id = String(res.body.id);
  const call = t.vmcontroller.calls.findLast(
    (c) => c.outcome === 'created' && c.namespaceId === id,
  );
  check(
    `vmcontroller created the namespace for ${TELEPORT_USER} by gateway in saga ${sagaId}`,
    call?.caller?.sub === TELEPORT_USER &&
      call.caller.actor === 'gateway' &&
      call.caller.saga === sagaId,
    call?.caller
      ? `sub=${call.caller.sub} actor=${call.caller.actor} saga=${call.caller.saga}`
      : 'no call',
  );
  check(
    "vmcontroller's sidecar checked the user's create_saga on cl0 (not the gateway's)",
    call?.spicedbSubject === TELEPORT_SUBJECT && (await vmcontrollerCheckedTheUser(step)) > 0,
    `checked ${call?.spicedbSubject ?? 'nobody'}`,
  );
  check(
    `relation namespace:${id}#cloud@cloud:cl0 exists in SpiceDB`,
    await p.hasNamespaceRelation(id, 'cl0'),
  );
  check(
    'the finished saga no longer acts for anyone (its relations are deleted)',
    (await p.sagaRelationCount(sagaId)) === 0,
  );
}

async function sagaWithoutRelations({ p, t, trace, check }: Step): Promise<void> {
  const ns = await t.gateway.startNamespace(
    { name: 'unrecorded', cluster: 'cl0', userId: TELEPORT_USER },
    undefined,
  );
  trace.add('gateway', `saga ${ns.sagaId} started WITHOUT writing its relations`);
  const saga = t.gateway.sagas.sagas.get(ns.sagaId)!;
  await until('two refused attempts', () => saga.attempts.length >= 2);
  check(
    "a saga whose relations were never written is refused (403 delegation_refused at the gateway's sidecar)",
    saga.attempts.every((a) => !a.ok && a.status === 403 && a.error === 'delegation_refused') &&
      !t.vmcontroller.calls.some((c) => c.namespaceId === ns.id) &&
      !(await p.hasNamespaceRelation(ns.id, 'cl0')),
    `${saga.attempts.length} attempts: ${saga.attempts[0]?.status} ${saga.attempts[0]?.error}`,
  );
}

async function sagaForUserWithoutPermission({ p, t, trace, check }: Step): Promise<void> {
  // As if the gateway's own check had been skipped (or the permission revoked since): the
  // relations name mallory, token-exchange issues her token, vmcontroller's sidecar says no.
  const ns = await t.gateway.startNamespace(
    { name: 'mallorys', cluster: 'cl0', userId: 'mallory' },
    'user:mallory',
  );
  trace.add('gateway', `saga ${ns.sagaId} started for mallory (no create_saga on cl0)`);
  const saga = t.gateway.sagas.sagas.get(ns.sagaId)!;
  await until('two denied attempts', () => saga.attempts.length >= 2);
  check(
    "a user without create_saga gets no namespace through a saga either (403 permission_denied at vmcontroller's sidecar)",
    saga.attempts.every((a) => !a.ok && a.status === 403 && a.error === 'permission_denied') &&
      !t.vmcontroller.calls.some((c) => c.namespaceId === ns.id) &&
      !(await p.hasNamespaceRelation(ns.id, 'cl0')),
    `${saga.attempts.length} attempts: ${saga.attempts[0]?.status} ${saga.attempts[0]?.error}`,
  );
}
