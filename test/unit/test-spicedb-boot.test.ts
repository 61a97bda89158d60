import { v1 } from '@authzed/authzed-node';
import { describe, expect, it } from 'vitest';
import { untilBootVisible } from '../helpers/spicedb.js';

/*
 * startSpiceDb returns only once its bootstrap is visible to a minimize_latency check: ReadSchema
 * reads at head and saw the schema at once, while the first checks of a test could still get
 * FAILED_PRECONDITION ("object definition `cloud` not found") for a few seconds (flaky CI runs).
 */
const P = v1.CheckPermissionResponse_Permissionship;
const answer = (permissionship: v1.CheckPermissionResponse_Permissionship) =>
  Promise.resolve(v1.CheckPermissionResponse.create({ permissionship }));
const notFound = () =>
  Promise.reject(Object.assign(new Error('object definition `cloud` not found'), { code: 9 }));

const SCHEMA = `
definition user {}
// A comment mentioning definition ghost { relation nope: user }
definition cloud {
  relation admin: user
  permission manage = admin
}
`;

describe('untilBootVisible (test/helpers/spicedb.ts)', () => {
  it('waits for the last bootstrap relationship, through an invisible schema and a stale NO', async () => {
    const seen: v1.CheckPermissionRequest[] = [];
    const answers = [notFound, () => answer(P.NO_PERMISSION), () => answer(P.HAS_PERMISSION)];
    await untilBootVisible(
      (req) => {
        seen.push(req);
        return answers[seen.length - 1]!();
      },
      SCHEMA,
      ['cloud:cl0#admin@user:alice\n# comment\n', 'cloud:cl1#admin@user:bob'],
    );
    expect(seen).toHaveLength(3);
    expect(seen.at(-1)!.resource).toEqual({ objectType: 'cloud', objectId: 'cl1' });
    expect(seen.at(-1)!.subject!.object).toEqual({ objectType: 'user', objectId: 'bob' });
  });

  it('without relationships, probes the first definition that has a member until it is found', async () => {
    const seen: v1.CheckPermissionRequest[] = [];
    await untilBootVisible(
      (req) => {
        seen.push(req);
        // Whether the probe has the permission does not matter, only that the type is known.
        return seen.length < 3 ? notFound() : answer(P.NO_PERMISSION);
      },
      SCHEMA,
      [''],
    );
    expect(seen).toHaveLength(3);
    expect(seen[0]!.resource!.objectType).toBe('cloud');
    expect(seen[0]!.permission).toBe('admin');
    expect(seen[0]!.consistency!.requirement.oneofKind).toBe('minimizeLatency');
  });

  it('throws any other failure at once, and gives up at its deadline', async () => {
    const denied = Object.assign(new Error('invalid preshared key'), { code: 16 });
    let calls = 0;
    const rejected = untilBootVisible(() => (calls++, Promise.reject(denied)), SCHEMA, []);
    await expect(rejected).rejects.toBe(denied);
    expect(calls).toBe(1);
    await expect(untilBootVisible(notFound, SCHEMA, [], -1)).rejects.toThrow(/still not visible/);
  });

  it('asks nothing when the schema declares no relation or permission', async () => {
    let calls = 0;
    await untilBootVisible(() => (calls++, notFound()), 'definition user {}', []);
    expect(calls).toBe(0);
  });
});
