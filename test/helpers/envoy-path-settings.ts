/**
 * The listener settings the sidecar's path rules rely on (docs/security.md): every HTTP
 * connection manager of every Envoy config the project ships, renders or runs in a test sets
 * them, so the path a rule sees is the path the app sees.
 */
export const PATH_SETTINGS = {
  normalize_path: true,
  merge_slashes: true,
  path_with_escaped_slashes_action: 'REJECT_REQUEST',
} as const;

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const HCM = 'envoy.filters.network.http_connection_manager';

/** One line per HTTP connection manager that lacks a setting; empty when all are right. */
export function pathSettingProblems(config: Yaml): string[] {
  const problems: string[] = [];
  let managers = 0;
  for (const listener of config?.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const filter of chain.filters ?? []) {
        if (filter.name !== HCM) continue;
        managers++;
        for (const [key, want] of Object.entries(PATH_SETTINGS)) {
          const got = filter.typed_config?.[key];
          // The bool fields are BoolValue wrappers; YAML may spell them `{ value: true }`.
          const value = typeof got === 'object' && got !== null ? got.value : got;
          if (value !== want) {
            problems.push(
              `listener ${listener.name}: ${key} is ${JSON.stringify(got)}, not ${String(want)}`,
            );
          }
        }
      }
    }
  }
  if (managers === 0) problems.push('no http_connection_manager found');
  return problems;
}

/** Throws when a config about to run lacks the settings (every test Envoy goes through this). */
export function assertPathSettings(config: Yaml, what: string): void {
  const problems = pathSettingProblems(config);
  if (problems.length > 0)
    throw new Error(`${what} lacks the path settings:\n${problems.join('\n')}`);
}
