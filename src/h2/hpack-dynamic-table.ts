/** An entry's size in the table's accounting (RFC 7541 §4.1): its octets plus 32. */
export const ENTRY_OVERHEAD = 32;

/** What tests (and diagnostics) may read of a decoder's dynamic table. */
export interface DynamicTableView {
  /** The sum of the entries' sizes. */
  readonly size: number;
  /** The number of entries. */
  readonly length: number;
  /** The current maximum size, set by the peer's size updates. */
  readonly maxSize: number;
  /** Entry i (1 = the newest), or undefined past the end. */
  entry(i: number): readonly [name: string, value: string] | undefined;
}

/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a ring buffer, newest entry first, so an insert
 * and a lookup by index are O(1). Its capacity covers the most entries the largest allowed size
 * can hold (every entry is at least 32 octets), so it never grows.
 */
export class DynamicTable implements DynamicTableView {
  private readonly names: string[];
  private readonly values: string[];
  private readonly mask: number;
  /** The slot of the newest entry. */
  private newest = 0;
  private count = 0;
  private octets = 0;
  private max: number;

  constructor(maxSize: number) {
    let capacity = 1;
    while (capacity < Math.floor(maxSize / ENTRY_OVERHEAD)) capacity *= 2;
    this.names = new Array<string>(capacity).fill('');
    this.values = new Array<string>(capacity).fill('');
    this.mask = capacity - 1;
    this.max = maxSize;
  }

  get size(): number {
    return this.octets;
  }

  get length(): number {
    return this.count;
  }

  get maxSize(): number {
    return this.max;
  }

  /** The name of entry i (1 = newest); the caller has checked 1 <= i <= length. */
  name(i: number): string {
    return this.names[(this.newest - i + 1) & this.mask]!;
  }

  /** The value of entry i (1 = newest); the caller has checked 1 <= i <= length. */
  value(i: number): string {
    return this.values[(this.newest - i + 1) & this.mask]!;
  }

  entry(i: number): readonly [name: string, value: string] | undefined {
    return i >= 1 && i <= this.count ? [this.name(i), this.value(i)] : undefined;
  }

  /** Adds an entry, evicting the oldest first; one larger than the table empties it (§4.4). */
  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.max) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.max - size);
    this.newest = (this.newest + 1) & this.mask;
    this.names[this.newest] = name;
    this.values[this.newest] = value;
    this.count++;
    this.octets += size;
  }

  /** A dynamic table size update (§6.3); the caller has checked it against the limit. */
  resize(maxSize: number): void {
    this.max = maxSize;
    this.evictTo(maxSize);
  }

  private evictTo(octets: number): void {
    while (this.octets > octets) {
      const oldest = (this.newest - this.count + 1) & this.mask;
      this.octets -= this.names[oldest]!.length + this.values[oldest]!.length + ENTRY_OVERHEAD;
      // Drop the strings so an evicted header does not stay reachable.
      this.names[oldest] = '';
      this.values[oldest] = '';
      this.count--;
    }
  }
}
