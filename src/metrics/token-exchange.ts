import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry, REMOTE_BUCKETS } from './registry.js';

/** The reference token-exchange server's metrics (`jwtexchange sts`). */
export class TokenExchangeMetrics extends MetricsRegistry {
  readonly tokenExchangeRequests: Counter<'grant' | 'result'>;
  readonly tokenExchangeRequestDuration: Histogram<'grant'>;

  constructor(options: { defaultMetrics?: boolean; version?: string } = {}) {
    super(options);
    const r = [this.registry];
    this.tokenExchangeRequests = new Counter({
      name: 'jwtexchange_sts_requests_total',
      help: 'Token-exchange server requests by grant and result (issued, or the RFC 6749 error code).',
      labelNames: ['grant', 'result'],
      registers: r,
    });
    this.tokenExchangeRequestDuration = new Histogram({
      name: 'jwtexchange_sts_request_duration_seconds',
      help: 'Token-exchange server request duration by grant.',
      labelNames: ['grant'],
      buckets: REMOTE_BUCKETS,
      registers: r,
    });
  }
}
