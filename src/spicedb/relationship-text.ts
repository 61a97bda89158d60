import { v1 } from '@authzed/authzed-node';

/**
 * Relationships written as text, one per line: `resource:id#relation@subject:id[#relation]`,
 * blank lines and `#` comments ignored (examples/spicedb/relationships.txt). Ids are taken as
 * written, so they must already be encoded.
 */
const LINE =
  /^([a-z][a-z0-9_/]*):([^#@\s]+)#([a-z][a-z0-9_]*)@([a-z][a-z0-9_/]*):([^#@\s]+)(?:#([a-z][a-z0-9_]*))?$/;

export function parseRelationship(text: string): v1.Relationship {
  const m = LINE.exec(text.trim());
  if (!m) throw new Error(`not a relationship (resource:id#relation@subject:id): ${text}`);
  const [, rType, rId, relation, sType, sId, sRel] = m as unknown as string[];
  return v1.Relationship.create({
    resource: { objectType: rType!, objectId: rId! },
    relation: relation!,
    subject: { object: { objectType: sType!, objectId: sId! }, optionalRelation: sRel ?? '' },
  });
}

/** The relationship lines of such a text, trimmed, without blank lines and comments. */
export function relationshipLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export function parseRelationships(text: string): v1.Relationship[] {
  return relationshipLines(text).map(parseRelationship);
}

/** TOUCH updates (idempotent) for a WriteRelationships call. */
export function touchAll(relationships: readonly v1.Relationship[]): v1.WriteRelationshipsRequest {
  return v1.WriteRelationshipsRequest.create({
    updates: relationships.map((relationship) =>
      v1.RelationshipUpdate.create({
        operation: v1.RelationshipUpdate_Operation.TOUCH,
        relationship,
      }),
    ),
  });
}
