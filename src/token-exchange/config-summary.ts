import { existsSync } from 'node:fs';
import type { ReferencedFile } from '../config/referenced-files.js';
import { settings } from '../config/summary.js';
import type { TokenExchangeConfig } from './config.js';
import { readKeyState } from './key-file.js';

/**
 * `jwtexchange config check --sts`: the files token-exchange reads and a summary of its
 * configuration (the sidecar's counterpart is src/config/summary.ts).
 */
export function tokenExchangeFiles(config: TokenExchangeConfig): ReferencedFile[] {
  const files: ReferencedFile[] = [
    { setting: 'tls.certFile', file: config.tls.certFile, kind: 'certificate' },
    {
      setting: 'tls.keyFile',
      file: config.tls.keyFile,
      kind: 'private-key',
      pairedWith: 'tls.certFile',
    },
    { setting: 'tls.clientCaFile', file: config.tls.clientCaFile, kind: 'ca-bundle' },
  ];
  config.subjectIssuers.forEach((i, n) => {
    const at = `subjectIssuers[${n}]`;
    if (i.jwksFile) files.push({ setting: `${at}.jwksFile`, file: i.jwksFile, kind: 'jwks' });
    if (i.jwksCaFile)
      files.push({ setting: `${at}.jwksCaFile`, file: i.jwksCaFile, kind: 'ca-bundle' });
  });
  const spicedb = config.sagas?.spicedb;
  if (spicedb?.caFile)
    files.push({ setting: 'sagas.spicedb.caFile', file: spicedb.caFile, kind: 'ca-bundle' });
  if (spicedb?.presharedKeyFile) {
    const file = spicedb.presharedKeyFile;
    files.push({ setting: 'sagas.spicedb.presharedKeyFile', file, kind: 'secret' });
  }
  return files;
}

/** keys.stateFile may not exist yet (it is created); when it does, it must be a key state. */
export function stateFileProblem(
  config: TokenExchangeConfig,
  locate: (f: string) => string,
): string[] {
  const file = config.keys.stateFile;
  if (!file || !existsSync(locate(file))) return [];
  try {
    readKeyState(locate(file));
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

export function summarizeTokenExchangeConfig(
  config: TokenExchangeConfig,
  env = process.env,
): string[] {
  const fromEnv = (env.ENABLED_TLS_SERVICE_NAME ?? '').split(',').filter((s) => s.trim());
  const lines = [
    `  listen           ${config.listen}${config.metricsAddress ? `, metrics ${config.metricsAddress}` : ''}; log ${config.log.level}`,
    `  issuer           ${config.issuer}; tokens ${settings(config.tokens)}`,
    `  clients          identified by ${config.clientIdentity.source}${config.clientIdentity.source === 'uri-san' ? ` (${config.clientIdentity.uriPrefix}<service>)` : ''}`,
    `  allowlist        ${config.allowlist.join(', ') || '(empty)'}${fromEnv.length ? ` + ENABLED_TLS_SERVICE_NAME here: ${fromEnv.join(', ')}` : ''}`,
  ];
  for (const [name, policy] of Object.entries(config.services)) {
    lines.push(`    service ${name}  ${settings(policy)}`);
  }
  const state = config.keys.stateFile
    ? `kept in ${config.keys.stateFile}`
    : 'in memory (lost on restart)';
  lines.push(`  signing keys     ${state}; ${settings(config.keys, ['stateFile'])}`);
  lines.push(`  subject issuers  ${config.subjectIssuers.length}`);
  for (const i of config.subjectIssuers) {
    lines.push(
      `    ${i.issuer}  keys from ${i.jwksUri ?? i.jwksFile}; audiences ${i.audiences.join(', ')}`,
    );
  }
  const sagas = config.sagas;
  lines.push(
    sagas
      ? `  saga delegation  SpiceDB ${sagas.spicedb.endpoint} (${sagas.spicedb.transport}); ${settings(sagas.schema)}`
      : '  saga delegation  off (no sagas section: saga ids are refused)',
  );
  return lines;
}
