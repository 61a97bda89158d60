import { isServiceName } from '../pki/service-name.js';

/** The environment variable the users' token-exchange reads its allowlist from (comma-separated). */
const ALLOWLIST_ENV = 'ENABLED_TLS_SERVICE_NAME';

export interface Allowlist {
  has(service: string): boolean;
  readonly names: readonly string[];
}

/**
 * The effective allowlist: the config list plus ENABLED_TLS_SERVICE_NAME. Names are compared
 * exactly; an env entry that is not a valid service name is an error, not silently ignored,
 * because a typo there would lock a service out.
 */
export function resolveAllowlist(
  configured: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Allowlist {
  const fromEnv = (env[ALLOWLIST_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const bad = fromEnv.filter((s) => !isServiceName(s));
  if (bad.length > 0) {
    throw new Error(
      `${ALLOWLIST_ENV} contains invalid service name(s): ${bad.map((s) => JSON.stringify(s)).join(', ')}`,
    );
  }
  const names = [...new Set([...configured, ...fromEnv])].sort();
  const set = new Set(names);
  return { has: (service) => set.has(service), names };
}
