import { v1 } from '@authzed/authzed-node';
import { describe, expect, it } from 'vitest';
import { parseRelationship } from '../../../src/spicedb/relationship-text.js';
import { untilVisible } from '../../../src/spicedb/visible.js';

const REL = parseRelationship('cloud:cl0#admin@user:alice');
const P = v1.CheckPermissionResponse_Permissionship;
const answer = (permissionship: v1.CheckPermissionResponse_Permissionship) =>
  v1.CheckPermissionResponse.create({ permissionship });

describe('untilVisible', () => {
  it('checks the relationship itself at minimize_latency, and returns once it is seen', async () => {
    const seen: v1.CheckPermissionRequest[] = [];
    await untilVisible(async (req) => {
      seen.push(req);
      return answer(P.HAS_PERMISSION);
    }, REL);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.consistency!.requirement).toEqual({
      oneofKind: 'minimizeLatency',
      minimizeLatency: true,
    });
    expect(seen[0]!.resource).toEqual(REL.resource);
    expect(seen[0]!.permission).toBe('admin');
    expect(seen[0]!.subject).toEqual(REL.subject);
  });

  it('asks again while the schema or the relationship is not visible yet', async () => {
    const answers = [
      () => Promise.reject(Object.assign(new Error('object definition not found'), { code: 9 })),
      () => Promise.resolve(answer(P.NO_PERMISSION)),
      () => Promise.resolve(answer(P.HAS_PERMISSION)),
    ];
    let calls = 0;
    await untilVisible(() => answers[calls++]!(), REL);
    expect(calls).toBe(3);
  });

  it('rethrows any other failure', async () => {
    const err = Object.assign(new Error('unavailable'), { code: 14 });
    await expect(untilVisible(() => Promise.reject(err), REL)).rejects.toBe(err);
  });

  it('gives up once past its deadline', async () => {
    await expect(
      untilVisible(() => Promise.resolve(answer(P.NO_PERMISSION)), REL, -1),
    ).rejects.toThrow('a relationship written to SpiceDB is still not visible after -1 ms');
  });
});
