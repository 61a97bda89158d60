/**
 * Saga ids as they travel in `x-saga-id`, as the RFC 8693 subject_token of a delegated-token
 * request, and as the SpiceDB object id of `saga:<id>`. They are used verbatim, never encoded, so
 * they must already be valid SpiceDB object ids (`[A-Za-z0-9/_|+=-]`, never the wildcard `*`),
 * and short: a saga id is a UUID or similar, and a bound keeps hostile headers cheap.
 */

/** RFC 8693 token type URI of a saga id used as the subject of a delegated-token request. */
export const SAGA_ID_TOKEN_TYPE = 'urn:jwtexchange:params:oauth:token-type:saga-id';

/** The longest saga id accepted anywhere (bytes = characters: the alphabet is ASCII). */
export const MAX_SAGA_ID_LENGTH = 128;

const SAGA_ID = /^[A-Za-z0-9/_|+=-]+$/;

/** Why a value is not a usable saga id (a sentence without the value), or undefined if it is. */
export function sagaIdProblem(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0) return 'is missing or empty';
  if (value.length > MAX_SAGA_ID_LENGTH) return `is longer than ${MAX_SAGA_ID_LENGTH} characters`;
  if (!SAGA_ID.test(value)) return 'may contain only A-Z a-z 0-9 / _ | + = -';
  return undefined;
}

export const isSagaId = (value: string | undefined): value is string =>
  sagaIdProblem(value) === undefined;
