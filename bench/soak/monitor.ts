import { sumSamples } from '../lib/prom-text.js';
import type { ServerUnderTest } from '../lib/servers.js';

export interface ProcessSample {
  readonly atMs: number;
  readonly rssBytes: number;
  /** prom-client resets the event-loop delay histogram on every scrape: this is the last window's p99. */
  readonly lagP99Seconds: number;
  readonly lagMaxSeconds: number;
}

/**
 * Scrapes a sidecar's own /metrics every `everyMs` (process_resident_memory_bytes and
 * nodejs_eventloop_lag_p99_seconds), so memory and event-loop lag are the sidecar process's, as
 * its pod would report them.
 */
export class ProcessMonitor {
  readonly samples: ProcessSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: ServerUnderTest,
    private readonly everyMs = 5_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.everyMs);
  }

  async sample(): Promise<ProcessSample> {
    const { samples } = await this.server.stats();
    const s = {
      atMs: Date.now(),
      rssBytes: sumSamples(samples, 'process_resident_memory_bytes'),
      lagP99Seconds: sumSamples(samples, 'nodejs_eventloop_lag_p99_seconds'),
      lagMaxSeconds: sumSamples(samples, 'nodejs_eventloop_lag_max_seconds'),
    };
    this.samples.push(s);
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Event-loop lag p99 of the 5 s windows that started at or after `sinceMs`: median and worst, in ms. */
  lagP99Ms(sinceMs: number): { median: number; worst: number } {
    const windows = this.samples
      .filter((s) => s.atMs - this.everyMs >= sinceMs)
      .map((s) => s.lagP99Seconds * 1000)
      .sort((a, b) => a - b);
    if (windows.length === 0) return { median: NaN, worst: NaN };
    return { median: windows[Math.floor(windows.length / 2)]!, worst: windows.at(-1)! };
  }
}
