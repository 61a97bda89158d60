import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../package-root.js';
import { parseRelationships } from '../../spicedb/relationship-text.js';
import { startEmbeddedSpiceDb } from './start.js';

/** The example schema and relationships, from the package's examples/. */
const EXAMPLES = path.join(packageRoot(import.meta.url), 'examples/spicedb');

export interface DevAuthorization {
  /** `spicedb` and `authorization` config sections pointing at the embedded engine. */
  readonly sections: { spicedb: Record<string, unknown>; authorization: Record<string, unknown> };
  close(): Promise<void>;
}

/**
 * For `jwtexchange dev` (npm start): the real SpiceDB engine in-process with the example schema
 * and relationships, and the seed's rule — POST /v2/namespaces/{cluster} needs
 * cloud:{cluster}#create_saga. Other routes are allowed so the rest of the quick start still works.
 * The preshared key is written to DIR/spicedb.key (0600).
 */
export async function startDevAuthorization(dir: string): Promise<DevAuthorization> {
  const db = await startEmbeddedSpiceDb({
    schema: readFileSync(path.join(EXAMPLES, 'schema.zed'), 'utf8'),
    relationships: parseRelationships(
      readFileSync(path.join(EXAMPLES, 'relationships.txt'), 'utf8'),
    ),
  });
  const keyFile = path.join(dir, 'spicedb.key');
  writeFileSync(keyFile, db.presharedKey, { mode: 0o600 });
  return {
    sections: {
      // The engine runs on the sidecar's own event loop (synchronous FFI): allow it more time.
      spicedb: {
        endpoint: db.endpoint,
        transport: 'plaintext',
        presharedKeyFile: keyFile,
        timeoutMs: 1_000,
      },
      authorization: {
        default: 'allow',
        rules: [
          {
            name: 'create-namespace',
            match: { http: 'POST /v2/namespaces/{cluster}' },
            resource: { type: 'cloud', id: { param: 'cluster' } },
            permission: 'create_saga',
          },
          {
            name: 'create-namespace-grpc',
            match: { grpc: 'gateway.v2.NamespaceService/CreateNamespace' },
            resource: { type: 'cloud', id: { header: 'x-cluster' } },
            permission: 'create_saga',
          },
        ],
      },
    },
    close: () => db.close(),
  };
}
