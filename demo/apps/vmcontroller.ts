import {
  jwtauthContext,
  type JwtauthContext,
  type PipelineMode,
  type TokenCheck,
} from './jwtauth-context.js';
import { serveJson } from './http-util.js';

/**
 * vmcontroller: creates the namespace relation namespace:<id>#cloud@cloud:<cluster> in SpiceDB —
 * but, like the users' rbac client interceptor, only when the request carries a jwtauth context.
 */
export interface VmcontrollerOptions {
  readonly port?: number;
  readonly mode: PipelineMode;
  /** exchange mode: validates the internal JWT (audience vmcontroller). */
  readonly verify?: TokenCheck;
  readonly writeNamespaceRelation: (namespaceId: string, cluster: string) => Promise<void>;
  readonly onCall?: (call: VmcontrollerCall) => void;
}

export interface VmcontrollerCall {
  readonly namespaceId: string;
  readonly sagaId: string | undefined;
  readonly caller: JwtauthContext | undefined;
  readonly outcome: 'created' | 'no_jwtauth_context' | 'error';
}

/** The users' error, verbatim in shape (README of the seed). */
export function noJwtauthContextError(namespaceId: string, cluster: string): string {
  return (
    `failed to create namespace relation: failed to create relationship [[{ResourceType:namespace ` +
    `ResourceID:${namespaceId} Relation:cloud SubjectType:cloud SubjectID:${cluster}}]]: failed to add ` +
    `relation - {namespace ${namespaceId} cloud cloud ${cluster}}: does not exist jwtauth context in client ` +
    `method - /authzed.api.v1.PermissionsService/WriteRelationships: does not exist jwtauth context: ` +
    `bad data or subject does not exist`
  );
}

export async function startVmcontroller(opts: VmcontrollerOptions) {
  const calls: VmcontrollerCall[] = [];
  const record = (call: VmcontrollerCall) => {
    calls.push(call);
    opts.onCall?.(call);
  };
  const server = await serveJson(opts.port ?? 0, async (req, body) => {
    if (req.method !== 'POST' || req.url !== '/v1/namespaces')
      return { status: 404, body: { error: 'not found' } };
    const { namespaceId, cluster } = (body ?? {}) as { namespaceId?: string; cluster?: string };
    if (!namespaceId || !cluster)
      return { status: 400, body: { error: 'namespaceId and cluster are required' } };
    const sagaId =
      typeof req.headers['x-saga-id'] === 'string' ? req.headers['x-saga-id'] : undefined;
    const caller = await jwtauthContext(req, opts.mode, opts.verify);
    if (!caller) {
      record({ namespaceId, sagaId, caller, outcome: 'no_jwtauth_context' });
      return { status: 500, body: { error: noJwtauthContextError(namespaceId, cluster) } };
    }
    try {
      await opts.writeNamespaceRelation(namespaceId, cluster);
    } catch (err) {
      record({ namespaceId, sagaId, caller, outcome: 'error' });
      return { status: 503, body: { error: `spicedb: ${(err as Error).message}` } };
    }
    record({ namespaceId, sagaId, caller, outcome: 'created' });
    return {
      status: 200,
      body: { namespaceId, relation: `namespace:${namespaceId}#cloud@cloud:${cluster}`, caller },
    };
  });
  return { port: server.port, calls, close: server.close };
}
