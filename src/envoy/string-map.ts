/**
 * A string-to-string map for request headers and settings: it inherits nothing (no
 * `constructor`, `toString`, `__proto__` accessor), yet stays in V8's fast mode, unlike
 * Object.create(null), which is several times slower to fill and read.
 */
function StringMap(): void {}
StringMap.prototype = Object.create(null) as object;

export const newStringMap = (): Record<string, string> =>
  new (StringMap as unknown as new () => Record<string, string>)();
