import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { certificateValidity, describeCertificateNames } from '../pki/describe.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/** What changed on disk, for the operator's log (never key material). */
export type MtlsFilesEvent =
  | {
      readonly kind: 'loaded';
      readonly certificate: string;
      readonly serial: string;
      readonly notAfter: string;
    }
  | { readonly kind: 'mismatch'; readonly error: string };

/** The settings that name the files, so an error says which one to fix. */
const SETTINGS = {
  certFile: 'outbound.tokenExchange.certFile',
  keyFile: 'outbound.tokenExchange.keyFile',
  caFile: 'outbound.tokenExchange.caFile',
} as const;

type Files = { certFile: string; keyFile: string; caFile?: string | undefined };

/** Runs a file operation; a failure names the setting and the file (`… caFile /x: ENOENT`). */
function onFile<T>(setting: keyof Files, file: string, op: (f: string) => T): T {
  try {
    return op(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message);
    throw new Error(`cannot read ${SETTINGS[setting]} ${file} (${why})`, { cause: err });
  }
}

/**
 * The client certificate, key and CA bundle, re-read whenever a file changes on disk (inode,
 * size or mtime), so a rotated certificate — e.g. a renewed Kubernetes Secret — is used on the
 * next call without a restart. Token calls are rare, so a stat per call costs nothing.
 *
 * A renewal written one file at a time (new certificate, old key) is not a usable pair: the
 * previous pair is kept until the files match again, so exchanges never fail in between.
 */
export class MtlsFiles {
  private stamp = '';
  private material: TlsMaterial | undefined;

  constructor(
    private readonly files: Files,
    private readonly onChange?: (event: MtlsFilesEvent) => void,
  ) {}

  current(): TlsMaterial {
    const stamp = this.fingerprint();
    if (this.material && stamp === this.stamp) return this.material;
    const read = (setting: keyof Files, f: string) => onFile(setting, f, (p) => readFileSync(p));
    const next: TlsMaterial = {
      cert: read('certFile', this.files.certFile),
      key: read('keyFile', this.files.keyFile),
      ca: this.files.caFile ? read('caFile', this.files.caFile) : undefined,
    };
    try {
      createSecureContext({ cert: next.cert, key: next.key, ...(next.ca ? { ca: next.ca } : {}) });
    } catch (err) {
      const error = `${SETTINGS.certFile} and ${SETTINGS.keyFile} are not a usable pair (${(err as Error).message})`;
      if (!this.material) throw new Error(error, { cause: err });
      this.stamp = stamp; // report once per change on disk, not on every call
      this.onChange?.({ kind: 'mismatch', error: `${error}; keeping the previous pair` });
      return this.material;
    }
    this.material = next;
    this.stamp = stamp;
    this.onChange?.({ kind: 'loaded', ...describe(next.cert) });
    return next;
  }

  private fingerprint(): string {
    return (['certFile', 'keyFile', 'caFile'] as const)
      .map((setting) => {
        const f = this.files[setting];
        if (!f) return '-';
        const s = onFile(setting, f, (p) => statSync(p));
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  }
}

function describe(pem: Buffer): { certificate: string; serial: string; notAfter: string } {
  try {
    const { serial, notAfter } = certificateValidity(pem);
    return {
      certificate: describeCertificateNames(pem),
      serial,
      notAfter: notAfter.toISOString(),
    };
  } catch {
    return { certificate: 'unparsable', serial: '', notAfter: '' };
  }
}
