import { AggregatorRegistry, type Registry } from 'prom-client';
import type { WorkerPool } from './worker-pool.js';

/**
 * One /metrics for the pod (`server.workers` > 1): the primary's own families (service tokens,
 * its process) and every worker's, merged by prom-client's aggregator — counters and histograms
 * summed, gauges as each family declares (src/metrics/; event-loop lag averaged).
 */
export function clusterMetrics(own: Registry, pool: Pick<WorkerPool, 'collectMetrics'>) {
  return {
    registry: {
      contentType: own.contentType,
      async metrics(): Promise<string> {
        const [mine, workers] = await Promise.all([own.getMetricsAsJSON(), pool.collectMetrics()]);
        return AggregatorRegistry.aggregate([mine, ...workers]).metrics();
      },
    },
  };
}
