/**
 * SpiceDB's name rules (authzed/api core.proto), checked when the config loads so a typo is a
 * config error, not an INVALID_ARGUMENT on every request.
 */

/** Object type: lower-case, 3–64 characters, optionally prefixed (`acme/cloud`). */
export const OBJECT_TYPE = /^([a-z][a-z0-9_]{1,61}[a-z0-9]\/)*[a-z][a-z0-9_]{1,62}[a-z0-9]$/;

/** Relation or permission name: lower-case, 3–64 characters. */
export const PERMISSION = /^[a-z][a-z0-9_]{1,62}[a-z0-9]$/;
