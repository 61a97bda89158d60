import type { JWTPayload } from 'jose';
import type { IdSourceConfig } from '../config/sections/authorization.js';
import { JwtxError } from '../errors.js';
import { encodeObjectId, ObjectIdError } from './object-id.js';
import type { PathParams } from '../config/route-match.js';

/** What an id source can read from: the request and the verified token. */
export interface IdInputs {
  readonly params: PathParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly claims: JWTPayload;
}

/** A claim usable as an id: a non-empty string, or a finite number written in decimal. */
export function claimAsId(claims: JWTPayload, name: string): string | undefined {
  const v = claims[name];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function describe(source: IdSourceConfig): string {
  if (source.param !== undefined) return `path parameter {${source.param}}`;
  if (source.header !== undefined) return `header ${source.header}`;
  if (source.claim !== undefined) return `claim ${source.claim}`;
  return 'configured value';
}

/** The raw (not yet encoded) id an id source names, or undefined when absent. */
function rawId(source: IdSourceConfig, inputs: IdInputs): string | undefined {
  if (source.value !== undefined) return source.value;
  if (source.param !== undefined) return inputs.params[source.param] || undefined;
  if (source.header !== undefined) return inputs.headers[source.header] || undefined;
  return claimAsId(inputs.claims, source.claim!);
}

/**
 * Encodes an id for SpiceDB; JwtxError(invalid_object_id) when it is missing, empty, too long or
 * not Unicode. `what` says which id in the message, which never carries the value itself.
 */
export function encodeId(raw: string | undefined, what: string): string {
  if (raw === undefined) throw new JwtxError('invalid_object_id', `${what} is missing or empty`);
  try {
    return encodeObjectId(raw);
  } catch (err) {
    if (err instanceof ObjectIdError) {
      throw new JwtxError('invalid_object_id', `${what}: ${err.message}`);
    }
    throw err;
  }
}

export function resourceId(source: IdSourceConfig, inputs: IdInputs, type: string): string {
  return encodeId(rawId(source, inputs), `${type} id (${describe(source)})`);
}
