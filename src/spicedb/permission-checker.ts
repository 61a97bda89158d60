import { deadlineIn } from '../clock.js';
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type { LabelValues } from 'prom-client';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import type { ZedClient } from './client.js';
import { classifyFailure } from './failure.js';

/** One permission check with already-encoded ids: `resourceType:resourceId#permission@subjectType:subjectId`. */
export interface CheckSpec {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectId: string;
  /** The caller's ZedToken: check at_least_as_fresh as it instead of minimize_latency. */
  readonly zedToken?: string;
}

/** Where an answer came from, for explanations. */
export interface AnswerOrigin {
  /** hit: answered from the decision cache; miss, off or bypassed (a ZedToken): SpiceDB was asked. */
  readonly decisionCache: 'hit' | 'miss' | 'off' | 'bypassed';
  /** The SpiceDB call was shared with an identical check already in flight. */
  readonly shared: boolean;
}

export interface PermissionChecker {
  /**
   * true: has the permission; false: does not. Throws SpicedbFailure on any error. `origin`, when
   * given, learns where the answer came from (only explained checks pass it).
   */
  check(spec: CheckSpec, origin?: (o: AnswerOrigin) => void): Promise<boolean>;
  /**
   * The answer when it is at hand without waiting (a decision-cache hit), else undefined (then
   * call check()). Synchronous, so the warm path creates no promise.
   */
  cached?(spec: CheckSpec, origin?: (o: AnswerOrigin) => void): boolean | undefined;
}

const MINIMIZE_LATENCY = v1.Consistency.create({
  requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true },
});

function consistency(zedToken: string | undefined): v1.Consistency {
  if (zedToken === undefined) return MINIMIZE_LATENCY;
  return v1.Consistency.create({
    requirement: { oneofKind: 'atLeastAsFresh', atLeastAsFresh: { token: zedToken } },
  });
}

/** The CheckPermission request for a spec: minimize_latency, or at_least_as_fresh its ZedToken. */
export function toCheckRequest(spec: CheckSpec): v1.CheckPermissionRequest {
  return v1.CheckPermissionRequest.create({
    consistency: consistency(spec.zedToken),
    resource: { objectType: spec.resourceType, objectId: spec.resourceId },
    permission: spec.permission,
    subject: {
      object: { objectType: spec.subjectType, objectId: spec.subjectId },
      optionalRelation: '',
    },
  });
}

type Result = 'allowed' | 'denied' | 'error';

/**
 * CheckPermission over the long-lived client, with a deadline on every call (authzed-node sets
 * none on its preconnected client). CONDITIONAL counts as no: the sidecar sends no caveat context.
 */
export class SpicedbPermissionChecker implements PermissionChecker {
  constructor(
    private readonly client: ZedClient,
    private readonly opts: { endpoint: string; timeoutMs: number; metrics: SidecarMetrics },
  ) {}

  async check(spec: CheckSpec): Promise<boolean> {
    const start = process.hrtime.bigint();
    let result: Result = 'error';
    try {
      const res = await this.client.promises.checkPermission(toCheckRequest(spec), new Metadata(), {
        deadline: deadlineIn(this.opts.timeoutMs),
      });
      const has = res.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
      result = has ? 'allowed' : 'denied';
      return has;
    } catch (err) {
      throw classifyFailure(err, this.opts.endpoint, this.opts.timeoutMs);
    } finally {
      const { metrics } = this.opts;
      metrics.spicedbCheckDuration.observe(Number(process.hrtime.bigint() - start) / 1e9);
      metrics.spicedbChecks.inc({
        resource_type: spec.resourceType,
        permission: spec.permission,
        result,
      } as LabelValues<'resource_type' | 'permission' | 'result'>);
    }
  }
}
