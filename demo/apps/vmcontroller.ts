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
  /** x-jwtauth-spicedb-subject: the SpiceDB subject the sidecar checked (mode B with rules). */
  readonly spicedbSubject: string | undefined;
  readonly outcome: 'created' | 'no_jwtauth_context' | 'error';
}

/** POST /v1/namespaces {namespaceId, cluster} or POST /v1/clusters/{cluster}/namespaces {namespaceId}. */
function route(url: string | undefined, body: unknown): { namespaceId?: string; cluster?: string } {
  const { namespaceId, cluster } = (body ?? {}) as { namespaceId?: string; cluster?: string };
  if (url === '/v1/namespaces') return { namespaceId, cluster };
  const m = /^\/v1\/clusters\/([A-Za-z0-9_-]+)\/namespaces$/.exec(url ?? '');
  return m ? { namespaceId, cluster: m[1] } : {};
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
    const { namespaceId, cluster } = route(req.url, body);
    if (req.method !== 'POST' || !namespaceId || !cluster)
      return { status: 404, body: { error: 'not found, or namespaceId/cluster missing' } };
    const text = (name: string) =>
      typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined;
    const sagaId = text('x-saga-id');
    const spicedbSubject = text('x-jwtauth-spicedb-subject');
    const caller = await jwtauthContext(req, opts.mode, opts.verify);
    if (!caller) {
      record({ namespaceId, sagaId, caller, spicedbSubject, outcome: 'no_jwtauth_context' });
      return { status: 500, body: { error: noJwtauthContextError(namespaceId, cluster) } };
    }
    try {
      await opts.writeNamespaceRelation(namespaceId, cluster);
    } catch (err) {
      record({ namespaceId, sagaId, caller, spicedbSubject, outcome: 'error' });
      return { status: 503, body: { error: `spicedb: ${(err as Error).message}` } };
    }
    record({ namespaceId, sagaId, caller, spicedbSubject, outcome: 'created' });
    return {
      status: 200,
      body: { namespaceId, relation: `namespace:${namespaceId}#cloud@cloud:${cluster}`, caller },
    };
  });
  return { port: server.port, calls, close: server.close };
}
