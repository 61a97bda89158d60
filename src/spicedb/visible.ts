import { deadlineIn, sleep, systemClock } from '../clock.js';
import { v1 } from '@authzed/authzed-node';

const FAILED_PRECONDITION = 9;

type CheckPermission = (req: v1.CheckPermissionRequest) => Promise<v1.CheckPermissionResponse>;

/**
 * Asks `req` (a minimize_latency check) every 100 ms until `seen` accepts SpiceDB's answer. A
 * FAILED_PRECONDITION ("object definition not found": the schema is not visible yet either) is a
 * not-yet too; any other failure is thrown. Past `timeoutMs` it throws, naming `what`.
 */
export async function untilAnswered(
  checkPermission: CheckPermission,
  req: v1.CheckPermissionRequest,
  seen: (res: v1.CheckPermissionResponse) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = deadlineIn(timeoutMs);
  for (;;) {
    const res = await checkPermission(req).catch((err: { code?: number }) => {
      if (err.code === FAILED_PRECONDITION) return undefined;
      throw err;
    });
    if (res !== undefined && seen(res)) return;
    if (systemClock.now() > deadline) {
      throw new Error(`${what} is still not visible after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

/**
 * Resolves once `rel` is visible to a minimize_latency read. SpiceDB answers minimize_latency at
 * a revision rounded down to its quantization interval (5 s by default), so for up to that long
 * after a write a check may not see it — and whether it does depends on where the rounding falls,
 * that is, on timing. Data written at start (npm start's example relationships, test fixtures)
 * waits here once, so the first checks never depend on how fast the machine is.
 */
export async function untilVisible(
  checkPermission: CheckPermission,
  rel: v1.Relationship,
  timeoutMs = 60_000,
): Promise<void> {
  const req = v1.CheckPermissionRequest.create({
    consistency: { requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } },
    resource: rel.resource,
    permission: rel.relation,
    subject: rel.subject,
  });
  return untilAnswered(
    checkPermission,
    req,
    (res) => res.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
    'a relationship written to SpiceDB',
    timeoutMs,
  );
}
