import { readFileSync, statSync } from 'node:fs';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

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
 */
export class MtlsFiles {
  private stamp = '';
  private material: TlsMaterial | undefined;

  constructor(private readonly files: Files) {}

  current(): TlsMaterial {
    const stamp = this.fingerprint();
    if (!this.material || stamp !== this.stamp) {
      const read = (setting: keyof Files, f: string) => onFile(setting, f, (p) => readFileSync(p));
      this.material = {
        cert: read('certFile', this.files.certFile),
        key: read('keyFile', this.files.keyFile),
        ca: this.files.caFile ? read('caFile', this.files.caFile) : undefined,
      };
      this.stamp = stamp;
    }
    return this.material;
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
