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
  /** Long details already printed, and when: a repeat prints a reference instead. */
  private readonly details = new Map<string, number>();
  /** The last printed line and how often it came again since (printed as one count). */
  private last: { key: string; repeats: number } | undefined;

  constructor(
    private readonly print: ((line: string) => void) | undefined,
    /** Receives every raw sidecar log line (tests keep them for the end-of-run leak check). */
    private readonly raw?: (sidecar: string, json: string) => void,
  ) {}

  /**
   * One trace line. A long `detail` (an error text) is printed in full the first time only; later
   * lines show `(same as at 3.20s)`. A line equal to the one before is counted, not printed.
   */
  add(who: string, text: string, detail?: string): void {
    const at = Date.now() - this.start;
    const full = detail ? `${text} ${detail}` : text;
    this.lines.push({ at, who, text: full });
    let shown = full;
    if (detail && detail.length >= LONG) {
      const first = this.details.get(detail);
      if (first === undefined) this.details.set(detail, at);
      shown = first === undefined ? `${text} ${detail}` : `${text} (same as at ${seconds(first)})`;
    }
    const key = `${who}\u0000${full}`;
    if (this.last?.key === key) {
      this.last.repeats++;
      return;
    }
    this.flush();
    this.last = { key, repeats: 0 };
    this.print?.(`${seconds(at).padStart(8)}  ${who.padEnd(22)} ${shown}`);
  }

  /** Prints the count of a repeated last line, if any (call before printing anything else). */
  flush(): void {
    if (this.last && this.last.repeats > 0) {
      const times = this.last.repeats === 1 ? 'once more' : `${this.last.repeats} more times`;
      this.print?.(`${''.padStart(8)}  ${''.padEnd(22)} (the line above repeated ${times})`);
    }
    if (this.last) this.last.repeats = 0;
  }

  /** A log sink for one sidecar: decisions become trace lines, everything else is dropped. */
  sidecarSink(name: string): (json: string) => void {
    return (json) => {
      this.raw?.(name, json);
      const r = JSON.parse(json) as Record<string, unknown>;
      if (r.level === 'warn' || r.level === 'error') {
        this.add(
          `sidecar:${name}`,
          `${String(r.level).toUpperCase()} ${String(r.msg)}:`,
          String(r.error ?? ''),
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

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
/** Details at least this long are printed once; shorter ones every time. */
const LONG = 60;

/** sub / act / aud of a caller, for the trace. */
export function identity(c: { sub: string; aud: unknown; act: unknown } | undefined): string {
  if (!c) return 'NO jwtauth context';
  const act =
    c.act && typeof c.act === 'object' ? ` act=${String((c.act as { sub?: unknown }).sub)}` : '';
  return `sub=${c.sub}${act} aud=${JSON.stringify(c.aud)}`;
}
