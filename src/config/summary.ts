import type { Config } from './schema.js';

/**
 * What `jwtexchange config check` says about each section of a sidecar configuration: enough to
 * see that what was accepted is what was meant. Settings are printed generically (key=value), so
 * keys added to a section later show up without changing this file; a value whose key names a
 * secret is never printed.
 */
const SECRET_KEY = /secret|password|passphrase|token$/i;

function text(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(text).join(',')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  const s = String(value);
  return /[\s=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

/** `k=v k=v` for the scalar and list settings of an object, in their order. */
export function settings(obj: object, skip: readonly string[] = []): string {
  return Object.entries(obj)
    .filter(([k, v]) => !skip.includes(k) && v !== undefined)
    .map(([k, v]) => (SECRET_KEY.test(k) && !/File$/.test(k) ? `${k}=(set)` : `${k}=${text(v)}`))
    .join('  ');
}

function inbound(config: Config): string[] {
  const { mode, issuers } = config.inbound;
  const lines = [`  inbound        mode ${mode}, ${issuers.length} issuer(s)`];
  if (issuers.length === 0) lines.push('    (no issuers: every inbound request is denied)');
  for (const i of issuers) {
    const keys = i.jwksUri ? `jwksUri ${i.jwksUri}` : `jwksFile ${i.jwksFile}`;
    const e = i.exchange;
    const exchange = e
      ? `  exchanged for ${e.resource ? `resource ${e.resource}` : `audience ${e.audience}`}`
      : '';
    lines.push(
      `    ${i.issuer}`,
      `      keys from ${keys}; audiences ${i.audiences.join(', ')}; algorithms ${i.algorithms.join(', ')}${i.typ ? `; typ ${i.typ}` : ''}${exchange}`,
    );
  }
  return lines;
}

/** tokenUrl, or where discovery will find it (RFC 8414). */
function endpoint(te: { tokenUrl?: string | undefined; issuer?: string | undefined }): string {
  return te.tokenUrl ?? `from the metadata of ${te.issuer}`;
}

function outbound(config: Config): string[] {
  const o = config.outbound;
  if (!o) return ['  outbound       none (saga-tagged routes are denied: audience_not_allowed)'];
  const lines = [
    `  outbound       token endpoint ${endpoint(o.tokenExchange)} (mTLS), ${o.audiences.length} audience(s)`,
    `    tokenExchange  ${settings(o.tokenExchange, ['tokenUrl', 'issuer'])}`,
  ];
  for (const a of o.audiences)
    lines.push(`    audience ${a.audience}  ${settings(a, ['audience'])}`);
  if (o.audiences.length === 0) lines.push('    (no audiences: every tagged route is denied)');
  lines.push(`    delegation  ${settings(o.delegation)}`);
  return lines;
}

function authorization(config: Config): string[] {
  const s = config.spicedb;
  const a = config.authorization;
  const lines: string[] = [];
  if (s) {
    const key = s.presharedKeyFile
      ? `preshared key from ${s.presharedKeyFile}`
      : `preshared key from $${s.presharedKeyEnv}`;
    lines.push(
      `  spicedb        ${s.endpoint} (${s.transport}), ${key}, timeout ${s.timeoutMs} ms`,
    );
  }
  if (!a) return [...lines, '  authorization  none (no permission checks)'];
  lines.push(`  authorization  default ${a.default}, ${a.rules.length} rule(s)`);
  for (const r of a.rules) {
    const match = r.match.http ?? `grpc ${r.match.grpc}`;
    const [source, value] = Object.entries(r.resource.id).find(([, v]) => v !== undefined)!;
    const id = source === 'value' ? value : `{${source} ${value}}`;
    const subject =
      r.subject?.from === 'actor'
        ? ' (subject: the actor, act.sub)'
        : r.subject?.claim
          ? ` (subject claim ${r.subject.claim})`
          : '';
    const dry = r.dryRun ? ' [dry-run]' : '';
    lines.push(
      `    ${r.name ?? match}: ${match} → ${r.resource.type}:${id}#${r.permission}${subject}${dry}`,
    );
  }
  return lines;
}

export function summarizeConfig(config: Config): string[] {
  return [
    `  server         grpc ${config.server.grpcAddress}, http ${config.server.httpAddress}; log ${config.log.level}`,
    ...inbound(config),
    ...outbound(config),
    ...authorization(config),
  ];
}
