/**
 * The four Reflect metadata functions that tsyringe (a dependency of @peculiar/x509) checks for
 * at load time. We use no decorators, so a WeakMap-backed store is all it needs; installing the
 * full `reflect-metadata` polyfill would add a dependency for nothing. Installed only if absent.
 */
type Key = string | symbol | undefined;
type Store = WeakMap<object, Map<Key, Map<unknown, unknown>>>;

const store: Store = new WeakMap();

function table(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty && create) store.set(target, (byProperty = new Map()));
  let entries = byProperty?.get(property);
  if (!entries && create && byProperty) byProperty.set(property, (entries = new Map()));
  return entries;
}

const shim = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: Key): void {
    table(target, property, true)!.set(key, value);
  },
  getOwnMetadata(key: unknown, target: object, property?: Key): unknown {
    return table(target, property, false)?.get(key);
  },
  getMetadata(key: unknown, target: object, property?: Key): unknown {
    // Walks the prototype chain, as reflect-metadata does.
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const entries = table(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  },
  metadata(key: unknown, value: unknown) {
    return (target: object, property?: Key) => shim.defineMetadata(key, value, target, property);
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(shim)) {
  if (typeof reflect[name] !== 'function') reflect[name] = fn;
}
