import { systemClock } from '../clock.js';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describeCertificateNames } from '../pki/describe.js';
import type { Config } from './schema.js';

/**
 * The files a configuration points at, read and parsed the way the server will read them, so
 * `jwtexchange config check` fails on a typo or a wrong file instead of a pod that never gets
 * ready. Nothing read is ever printed: only names, counts, subjects and dates.
 */
export type FileKind = 'certificate' | 'private-key' | 'ca-bundle' | 'jwks' | 'secret';

export interface ReferencedFile {
  /** The setting that names the file, e.g. `outbound.tokenExchange.caFile`. */
  readonly setting: string;
  readonly file: string;
  readonly kind: FileKind;
  /** For a private key: the setting of the certificate it must match. */
  readonly pairedWith?: string;
}

export interface FileCheck {
  readonly setting: string;
  readonly file: string;
  /** What was found (e.g. `CN=gateway, …, expires 2026-01-01`), when it parsed. */
  readonly detail?: string;
  readonly problem?: string;
}

/** Every file the sidecar reads at start or on its first token request. */
export function sidecarFiles(config: Config): ReferencedFile[] {
  const files: ReferencedFile[] = [];
  config.inbound.issuers.forEach((i, n) => {
    const at = `inbound.issuers[${n}]`;
    if (i.jwksFile) files.push({ setting: `${at}.jwksFile`, file: i.jwksFile, kind: 'jwks' });
    if (i.jwksCaFile)
      files.push({ setting: `${at}.jwksCaFile`, file: i.jwksCaFile, kind: 'ca-bundle' });
  });
  const te = config.outbound?.tokenExchange;
  if (te) {
    const at = 'outbound.tokenExchange';
    files.push({ setting: `${at}.certFile`, file: te.certFile, kind: 'certificate' });
    files.push({
      setting: `${at}.keyFile`,
      file: te.keyFile,
      kind: 'private-key',
      pairedWith: `${at}.certFile`,
    });
    if (te.caFile) files.push({ setting: `${at}.caFile`, file: te.caFile, kind: 'ca-bundle' });
  }
  const s = config.spicedb;
  if (s?.caFile) files.push({ setting: 'spicedb.caFile', file: s.caFile, kind: 'ca-bundle' });
  if (s?.presharedKeyFile)
    files.push({ setting: 'spicedb.presharedKeyFile', file: s.presharedKeyFile, kind: 'secret' });
  return files;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in it');
  return blocks.map((b) => new X509Certificate(b));
}

function validity(cert: X509Certificate, now: number): string | undefined {
  if (Date.parse(cert.validTo) <= now) return `the certificate expired on ${cert.validTo}`;
  if (Date.parse(cert.validFrom) > now)
    return `the certificate is not valid before ${cert.validFrom}`;
  return undefined;
}

function describeJwks(text: string): string {
  const jwks = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(jwks.keys)) throw new Error('not a JWK Set (no "keys" array)');
  const keys = jwks.keys as Record<string, unknown>[];
  if (keys.some((k) => k !== null && typeof k === 'object' && 'd' in k)) {
    throw new Error('it holds private key material ("d"): publish only public keys');
  }
  const usable = keys.filter((k) => ['EC', 'RSA', 'OKP'].includes(String(k?.kty)));
  if (usable.length === 0) throw new Error('no EC, RSA or OKP key in it');
  const kids = usable.map((k) => (typeof k.kid === 'string' ? k.kid : '(no kid)'));
  return `${usable.length} key(s): ${kids.join(', ')}`;
}

/** Parses one file as its kind; returns a description, throws with the problem. */
function inspect(f: ReferencedFile, text: string, now: number, keys: Map<string, KeyObject>) {
  switch (f.kind) {
    case 'certificate': {
      const [leaf] = certificates(text);
      const problem = validity(leaf!, now);
      if (problem) throw new Error(problem);
      return `${describeCertificateNames(leaf!.toString())}; expires ${leaf!.validTo}`;
    }
    case 'ca-bundle': {
      const all = certificates(text);
      return `${all.length} CA certificate(s)`;
    }
    case 'private-key': {
      const key = createPrivateKey(text);
      keys.set(f.setting, key);
      return `${key.asymmetricKeyType ?? 'private'} key`;
    }
    case 'jwks':
      return describeJwks(text);
    case 'secret':
      if (text.trim().length === 0) throw new Error('it is empty');
      return 'present (not shown)';
  }
}

/**
 * Reads and parses each file. `locate` maps a configured path to where it is read here (e.g.
 * under a directory holding a copy of what the pod mounts).
 */
export function checkFiles(
  files: readonly ReferencedFile[],
  locate: (file: string) => string = (f) => f,
  now = systemClock.now(),
): FileCheck[] {
  const keys = new Map<string, KeyObject>();
  const certs = new Map<string, string>();
  const results = files.map((f): FileCheck => {
    let text: string;
    try {
      text = readFileSync(locate(f.file), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
      return { setting: f.setting, file: f.file, problem: `cannot read ${f.file}: ${why}` };
    }
    try {
      const detail = inspect(f, text, now, keys);
      if (f.kind === 'certificate') certs.set(f.setting, text);
      return { setting: f.setting, file: f.file, detail };
    } catch (err) {
      const what = f.kind.replace('-', ' ');
      return {
        setting: f.setting,
        file: f.file,
        problem: `${f.file} is not a usable ${what}: ${(err as Error).message}`,
      };
    }
  });
  return results.map((r, i) => pairProblem(files[i]!, r, keys, certs) ?? r);
}

/** A private key that does not belong to its certificate fails every TLS handshake. */
function pairProblem(
  f: ReferencedFile,
  r: FileCheck,
  keys: Map<string, KeyObject>,
  certs: Map<string, string>,
): FileCheck | undefined {
  const key = keys.get(f.setting);
  const cert = f.pairedWith ? certs.get(f.pairedWith) : undefined;
  if (!key || !cert || r.problem) return undefined;
  if (new X509Certificate(cert).checkPrivateKey(key)) return undefined;
  return { ...r, problem: `${f.file} is not the private key of ${f.pairedWith}` };
}
