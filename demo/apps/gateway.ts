import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/clock.js';
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
}

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

  const createNamespaceSaga = (ns: NamespaceRecord) =>
    sagas.add(ns.sagaId, 'CreateNamespace', async () => {
      const res = await postJson(
        `${opts.egressUrl}/v1/namespaces`,
        { namespaceId: ns.id, cluster: ns.cluster },
        { host: 'vmcontroller', 'x-saga-id': ns.sagaId },
      );
      const error =
        typeof res.body.error === 'string'
          ? res.body.error
          : typeof res.body.message === 'string'
            ? res.body.message
            : undefined;
      return { ok: res.status === 200, status: res.status, ...(error ? { error } : {}) };
    });

  const server = await serveJson(opts.port ?? 0, async (req, body) => {
    const caller = await jwtauthContext(req, opts.mode, opts.verify);
    if (!caller) return { status: 401, body: { error: 'no jwtauth context' } };
    const create = /^\/v2\/clusters\/([A-Za-z0-9_-]+)\/namespaces$/.exec(req.url ?? '');
    if (req.method === 'POST' && create) {
      const name = (body as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || !name)
        return { status: 400, body: { error: 'name is required' } };
      const ns: NamespaceRecord = {
        id: newId(),
        name,
        cluster: create[1]!,
        userId: caller.sub,
        sagaId: `saga-${newId()}`,
      };
      namespaces.set(ns.id, ns);
      createNamespaceSaga(ns);
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
    async close() {
      sagas.stop();
      await server.close();
    },
  };
}
