import { v1 } from '@authzed/authzed-node';
import { describe, expect, it } from 'vitest';
import {
  parseRelationship,
  parseRelationships,
  touchAll,
} from '../../../src/spicedb/relationship-text.js';

const short = (r: v1.Relationship) =>
  `${r.resource!.objectType}:${r.resource!.objectId}#${r.relation}@` +
  `${r.subject!.object!.objectType}:${r.subject!.object!.objectId}` +
  (r.subject!.optionalRelation ? `#${r.subject!.optionalRelation}` : '');

describe('parseRelationship', () => {
  it.each([
    'cloud:cl0#admin@user:alice',
    'cloud:cl0#viewer@group:ops#member',
    'app/cloud:a_b-c.d#can_view@app/user:x%40y',
  ])('reads %s', (text) => {
    expect(short(parseRelationship(`  ${text}  `))).toBe(text);
  });

  it('leaves the subject relation empty when there is none', () => {
    expect(parseRelationship('cloud:cl0#admin@user:alice').subject!.optionalRelation).toBe('');
  });

  it.each([
    '',
    'cloud:cl0#admin',
    'cloud:cl0@user:alice',
    'Cloud:cl0#admin@user:alice',
    'cloud:#admin@user:alice',
    'cloud:c l0#admin@user:alice',
    'cloud:cl0#admin@user:alice#',
    'cloud:cl0#admin@user:alice#member#x',
  ])('refuses %o, naming it', (text) => {
    expect(() => parseRelationship(text)).toThrow(
      `not a relationship (resource:id#relation@subject:id): ${text}`,
    );
  });
});

describe('parseRelationships', () => {
  it('reads one per line, skipping blank lines and comments', () => {
    const text = [
      '# the example cloud',
      'cloud:cl0#admin@user:alice',
      '',
      '   ',
      '  # indented comment',
      'cloud:cl0#viewer@group:ops#member',
    ].join('\n');
    expect(parseRelationships(text).map(short)).toEqual([
      'cloud:cl0#admin@user:alice',
      'cloud:cl0#viewer@group:ops#member',
    ]);
  });

  it('fails on the first line that is not a relationship', () => {
    expect(() => parseRelationships('cloud:cl0#admin@user:alice\nnonsense')).toThrow(/nonsense/);
  });
});

describe('touchAll', () => {
  it('writes every relationship as an idempotent TOUCH', () => {
    const rels = parseRelationships('cloud:a#admin@user:x\ncloud:b#admin@user:y');
    const request = touchAll(rels);
    expect(request.updates.map((u) => u.operation)).toEqual([
      v1.RelationshipUpdate_Operation.TOUCH,
      v1.RelationshipUpdate_Operation.TOUCH,
    ]);
    expect(request.updates.map((u) => u.relationship)).toEqual(rels);
  });
});
