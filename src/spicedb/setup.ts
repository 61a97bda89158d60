import { authorizePhase } from '../check/inbound/authorize.js';
import type { Phase } from '../check/pipeline.js';
import type { Clock } from '../clock.js';
import type { AuthorizationConfig } from '../config/sections/authorization.js';
import type { SpicedbConfig } from '../config/sections/spicedb.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Readiness } from '../server/readiness.js';
import { createSpicedbClient } from './client.js';
import { presharedKeySource } from './preshared-key.js';
import { CachedPermissionChecker, DecisionCache } from './decision-cache.js';
import { SpicedbPermissionChecker } from './permission-checker.js';
import { compileRules } from './rules.js';
import { SchemaGate } from './schema-gate.js';

export interface Authorization {
  /** The inbound phase to run after authentication. */
  readonly phase: Phase;
  /** Stops schema retries and closes the SpiceDB client. */
  close(): void;
}

/**
 * Builds SpiceDB authorization once at start: the long-lived client, the `spicedb` readiness
 * gate, the cached checker and the phase. Throws ConfigError when the preshared key is missing or
 * the rules name a type or permission the live schema lacks; an unreachable SpiceDB or a rejected
 * key does not stop the start, it keeps the gate not ready (naming the cause) and is retried.
 */
export async function setupAuthorization(
  spicedb: SpicedbConfig,
  authorization: AuthorizationConfig,
  deps: { clock: Clock; metrics: Metrics; logger: Logger; readiness: Readiness },
): Promise<Authorization> {
  const logger = deps.logger.child({ component: 'spicedb' });
  const key = presharedKeySource(spicedb, () =>
    logger.info('SpiceDB preshared key reloaded', { file: spicedb.presharedKeyFile }),
  );
  const client = createSpicedbClient(spicedb, key);
  const rules = compileRules(authorization);
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
  let retry: NodeJS.Timeout | undefined;
  try {
    if (!(await gate.probe(true)).ready) {
      retry = setInterval(() => {
        void gate.probe().then((s) => {
          deps.readiness.recheck();
          if (s.ready) clearInterval(retry);
        });
      }, spicedb.schemaRetryMs);
      retry.unref();
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
    phase: authorizePhase({
      rules,
      defaultDecision: authorization.default,
      subjects,
      zedTokenHeader: authorization.zedTokenHeader,
      checker,
      logger,
    }),
    close() {
      clearInterval(retry);
      client.close();
    },
  };
}
