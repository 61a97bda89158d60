import { readFileSync, statSync } from 'node:fs';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/**
 * The client certificate, key and CA bundle, re-read whenever a file changes on disk (inode,
 * size or mtime), so a rotated certificate — e.g. a renewed Kubernetes Secret — is used on the
 * next call without a restart. Token calls are rare, so a stat per call costs nothing.
 */
export class MtlsFiles {
  private stamp = '';
  private material: TlsMaterial | undefined;

  constructor(
    private readonly files: { certFile: string; keyFile: string; caFile?: string | undefined },
  ) {}

  current(): TlsMaterial {
    const stamp = this.fingerprint();
    if (!this.material || stamp !== this.stamp) {
      this.material = {
        cert: readFileSync(this.files.certFile),
        key: readFileSync(this.files.keyFile),
        ca: this.files.caFile ? readFileSync(this.files.caFile) : undefined,
      };
      this.stamp = stamp;
    }
    return this.material;
  }

  private fingerprint(): string {
    return [this.files.certFile, this.files.keyFile, this.files.caFile]
      .map((f) => {
        if (!f) return '-';
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  }
}
