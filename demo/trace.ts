/**
 * The demo's readable trace: who called whom, with which identity, and what each sidecar decided.
 * Sidecar decisions come from the sidecars' own JSON logs (one logger sink per sidecar).
 */
export interface TraceLine {
  readonly at: number;
  readonly who: string;
  readonly text: string;
}

export class Trace {
  readonly lines: TraceLine[] = [];
  private readonly start = Date.now();

  constructor(private readonly print: ((line: string) => void) | undefined) {}

  add(who: string, text: string): void {
    const line = { at: Date.now() - this.start, who, text };
    this.lines.push(line);
    this.print?.(`${(line.at / 1000).toFixed(2).padStart(7)}s  ${who.padEnd(22)} ${text}`);
  }

  /** A log sink for one sidecar: decisions become trace lines, everything else is dropped. */
  sidecarSink(name: string): (json: string) => void {
    return (json) => {
      const r = JSON.parse(json) as Record<string, unknown>;
      if (r.level === 'warn' || r.level === 'error') {
        this.add(
          `sidecar:${name}`,
          `${String(r.level).toUpperCase()} ${String(r.msg)}: ${String(r.error ?? '')}`,
        );
        return;
      }
      if (r.msg !== 'allow' && r.msg !== 'deny' && r.msg !== 'dry-run deny') return;
      const what = r.msg === 'allow' ? 'ALLOW' : r.msg === 'deny' ? 'DENY' : 'DRY-RUN (would deny)';
      this.add(
        `sidecar:${name}`,
        `${String(r.direction)} ${what} ${String(r.reason)} ${String(r.method ?? '')} ${String(r.path ?? '')}`.trim(),
      );
    };
  }
}

/** sub / act / aud of a caller, for the trace. */
export function identity(c: { sub: string; aud: unknown; act: unknown } | undefined): string {
  if (!c) return 'NO jwtauth context';
  const act =
    c.act && typeof c.act === 'object' ? ` act=${String((c.act as { sub?: unknown }).sub)}` : '';
  return `sub=${c.sub}${act} aud=${JSON.stringify(c.aud)}`;
}
