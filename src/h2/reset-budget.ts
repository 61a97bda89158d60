import { systemClock, type Clock } from '../clock.js';

/** nghttp2's defaults (nghttp2_option_set_stream_reset_rate_limit): a burst, then a rate. */
export const RESET_BURST = 1000;
export const RESETS_PER_SECOND = 33;

/**
 * How many open streams a peer may reset (RST_STREAM) before we end the connection. A reset
 * frees its stream's place under SETTINGS_MAX_CONCURRENT_STREAMS at once, while the check its
 * request started runs on; without a budget, a peer that opens and resets streams in a loop
 * ("rapid reset", CVE-2023-44487) has no bound on that work. Envoy resets a check's stream when
 * its ext_authz timeout fires, which passes the rate only while most checks time out; a new
 * connection starts with a full budget.
 */
export class ResetBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly burst = RESET_BURST,
    private readonly perSecond = RESETS_PER_SECOND,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** Spends one reset; false once none is left. */
  take(): boolean {
    const now = this.clock.now();
    // A clock stepped back refills nothing.
    const refill = (Math.max(0, now - this.at) * this.perSecond) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + refill);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
