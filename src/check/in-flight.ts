/** Tracks in-flight checks so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    // Most checks end with the count at 0 and nobody waiting: no array is built for them.
    if (this.count === 0 && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}
