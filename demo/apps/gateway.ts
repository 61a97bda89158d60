import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/clock.js';
import { deleteSagaRelations, writeSagaRelations } from '../../src/sagas/saga-relations.js';
import type { ZedClient } from '../../src/spicedb/client.js';
import { jwtauthContext, type PipelineMode, type TokenCheck } from './jwtauth-context.js';
import { postJson, serveJson } from './http-util.js';
import { SagaExecutor, type Attempt, type SagaState } from './saga-executor.js';

/**
 * The gateway: CreateNamespace records the request, answers at once, and hands the work to a saga
 * that runs later with an EMPTY context. The saga calls vmcontroller through the gateway's Envoy
 * egress listener, setting only x-saga-id — it never touches a token itself.
 */
export interface GatewayOptions {
  readonly port?: number;
  readonly mode: PipelineMode;
  /** exchange mode: validates the internal JWT itself (audience gateway). */
  readonly verify?: TokenCheck;
  /** The gateway's Envoy egress listener, e.g. http://127.0.0.1:10001 */
  readonly egressUrl: string;
  readonly onAttempt?: (saga: SagaState, attempt: Attempt) => void;
  readonly sagaBaseDelayMs?: number;
  /**
   * Saga delegation (docs/delegation.md): when a saga is created, write who started it and who
   * runs it in SpiceDB, and call vmcontroller on the route tagged for delegated tokens.
   */
  readonly delegation?: { readonly spicedb: ZedClient; readonly executor: string };
}

/** How long a saga may act for its initiator (the expiry of its SpiceDB relations). */
const SAGA_LIFETIME_MS = 10 * 60_000;

export interface NamespaceRecord {
  readonly id: string;
  readonly name: string;
  readonly cluster: string;
  readonly userId: string;
  readonly sagaId: string;
}

const newId = () => randomBytes(8).toString('hex');

export async function startGateway(opts: GatewayOptions) {
  const namespaces = new Map<string, NamespaceRecord>();
  const sagas = new SagaExecutor({
    clock: systemClock,
    baseDelayMs: opts.sagaBaseDelayMs ?? 200,
    maxDelayMs: 2_000,
    ...(opts.onAttempt ? { onAttempt: opts.onAttempt } : {}),
  });

  const delegation = opts.delegation;
  const createNamespaceSaga = (ns: NamespaceRecord) =>
    sagas.add(ns.sagaId, 'CreateNamespace', async () => {
      // Delegated: the cluster is in the path, so vmcontroller's sidecar can check it.
      const res = await postJson(
        delegation
          ? `${opts.egressUrl}/v1/clusters/${ns.cluster}/namespaces`
          : `${opts.egressUrl}/v1/namespaces`,
        { namespaceId: ns.id, cluster: ns.cluster },
        { host: 'vmcontroller', 'x-saga-id': ns.sagaId },
      );
      const error =
        typeof res.body.error === 'string'
          ? res.body.error
          : typeof res.body.message === 'string'
            ? res.body.message
            : undefined;
      // A finished saga acts for nobody any more: its relations go.
      if (res.status === 200 && delegation)
        await deleteSagaRelations(delegation.spicedb, ns.sagaId);
      return { ok: res.status === 200, status: res.status, ...(error ? { error } : {}) };
    });

  /**
   * Records a namespace and starts its saga. With delegation, `initiator` (the caller's
   * x-jwtauth-spicedb-subject) is written as the saga's initiator first; undefined writes nothing,
   * as a gateway that skipped CreateSagaRelations would.
   */
  const startNamespace = async (
    input: { name: string; cluster: string; userId: string },
    initiator: string | undefined,
  ): Promise<NamespaceRecord> => {
    const ns: NamespaceRecord = { id: newId(), sagaId: `saga-${newId()}`, ...input };
    if (delegation && initiator !== undefined) {
      await writeSagaRelations(delegation.spicedb, {
        sagaId: ns.sagaId,
        initiator,
        executor: delegation.executor,
        expiresAt: new Date(Date.now() + SAGA_LIFETIME_MS),
      });
    }
    namespaces.set(ns.id, ns);
    createNamespaceSaga(ns);
    return ns;
  };

  const server = await serveJson(opts.port ?? 0, async (req, body) => {
    const caller = await jwtauthContext(req, opts.mode, opts.verify);
    if (!caller) return { status: 401, body: { error: 'no jwtauth context' } };
    const create = /^\/v2\/clusters\/([A-Za-z0-9_-]+)\/namespaces$/.exec(req.url ?? '');
    if (req.method === 'POST' && create) {
      const name = (body as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || !name)
        return { status: 400, body: { error: 'name is required' } };
      const subject = req.headers['x-jwtauth-spicedb-subject'];
      if (delegation && typeof subject !== 'string')
        return { status: 500, body: { error: 'no x-jwtauth-spicedb-subject to start a saga for' } };
      const ns = await startNamespace(
        { name, cluster: create[1]!, userId: caller.sub },
        typeof subject === 'string' ? subject : undefined,
      );
      return { status: 202, body: { ...ns, state: 'creating' } };
    }
    const get = /^\/v2\/namespaces\/([a-f0-9]+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && get) {
      const ns = namespaces.get(get[1]!);
      if (!ns) return { status: 404, body: { error: 'no such namespace' } };
      const saga = sagas.sagas.get(ns.sagaId);
      return { status: 200, body: { ...ns, state: saga?.status, attempts: saga?.attempts ?? [] } };
    }
    return { status: 404, body: { error: 'not found' } };
  });
  return {
    port: server.port,
    namespaces,
    sagas,
    startNamespace,
    async close() {
      sagas.stop();
      await server.close();
    },
  };
}
