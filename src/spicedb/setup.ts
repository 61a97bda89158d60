import { repeat, type Clock, type Timers } from '../clock.js';
import type { AuthorizationConfig } from '../config/sections/authorization.js';
import type { CompiledRule } from '../config/rules.js';
import type { SpicedbConfig } from '../config/sections/spicedb.js';
import type { Logger } from '../log.js';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import type { Readiness } from '../readiness.js';
import { createSpicedbClient } from './client.js';
import { presharedKeySource } from './preshared-key.js';
import { CachedPermissionChecker, DecisionCache } from './decision-cache.js';
import { SpicedbPermissionChecker, type PermissionChecker } from './permission-checker.js';
import { SchemaGate } from './schema-gate.js';

export interface Authorization {
  /** SpiceDB CheckPermission behind the decision cache, for the authorize phase. */
  readonly checker: PermissionChecker;
  /** Stops schema retries and closes the SpiceDB client. */
  close(): void;
}

/**
 * Builds SpiceDB authorization once at start: the long-lived client, the `spicedb` readiness
 * gate and the cached checker. Throws ConfigError when the preshared key is missing or
 * the rules name a type or permission the live schema lacks; an unreachable SpiceDB or a rejected
 * key does not stop the start, it keeps the gate not ready (naming the cause) and is retried.
 */
export async function setupAuthorization(
  spicedb: SpicedbConfig,
  authorization: AuthorizationConfig,
  rules: readonly CompiledRule[],
  deps: {
    clock: Clock;
    timers: Timers;
    metrics: SidecarMetrics;
    logger: Logger;
    readiness: Readiness;
  },
): Promise<Authorization> {
  const logger = deps.logger;
  const key = presharedKeySource(spicedb, () =>
    logger.info('SpiceDB preshared key reloaded', { file: spicedb.presharedKeyFile }),
  );
  const client = createSpicedbClient(spicedb, key);
  const subjects = authorization.subjects;
  const gate = new SchemaGate({
    client,
    endpoint: spicedb.endpoint,
    timeoutMs: spicedb.schemaTimeoutMs,
    rules,
    subjectTypes: { user: subjects.user.type, service: subjects.service.type },
    logger,
  });
  deps.readiness.register('spicedb', () => gate.status());
  let stopRetry: (() => void) | undefined;
  try {
    if (!(await gate.probe(true)).ready) {
      const retry = () =>
        void gate.probe().then((s) => {
          deps.readiness.recheck();
          if (s.ready) stopRetry?.();
        });
      stopRetry = repeat(deps.timers, retry, spicedb.schemaRetryMs);
    }
  } catch (err) {
    client.close();
    throw err;
  }
  const checker = new CachedPermissionChecker(
    new SpicedbPermissionChecker(client, {
      endpoint: spicedb.endpoint,
      timeoutMs: spicedb.timeoutMs,
      metrics: deps.metrics,
    }),
    new DecisionCache(
      authorization.cache.maxEntries,
      authorization.cache.ttlMs,
      deps.clock,
      authorization.cache.maxBytes,
    ),
    deps.metrics,
  );
  return {
    checker,
    close() {
      stopRetry?.();
      client.close();
    },
  };
}
