/** Named readiness gates (key sets loaded, service tokens warmed, SpiceDB reachable…). */
export interface GateStatus {
  readonly ready: boolean;
  readonly detail?: string;
}

export class Readiness {
  private readonly gates = new Map<string, () => GateStatus>();
  private readonly listeners: ((ready: boolean) => void)[] = [];
  private draining = false;
  private last: boolean | undefined;

  register(name: string, probe: () => GateStatus): void {
    this.gates.set(name, probe);
  }

  /**
   * Calls the listener with the answer now, then whenever it changes (see recheck()). Now too:
   * gates may all have become ready before anyone listened.
   */
  onChange(listener: (ready: boolean) => void): void {
    const ready = this.recheck();
    this.listeners.push(listener);
    listener(ready);
  }

  /**
   * Re-reads the gates and tells the listeners when the answer changed. Components call it as
   * soon as a gate may have moved (a key set loaded, a token fetched), so gRPC health follows
   * readiness without waiting for a timer.
   */
  recheck(): boolean {
    const ready = this.report().ready;
    if (ready !== this.last) {
      this.last = ready;
      for (const listener of this.listeners) listener(ready);
    }
    return ready;
  }

  startDraining(): void {
    this.draining = true;
    this.recheck();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  report(): { ready: boolean; draining: boolean; gates: Record<string, GateStatus> } {
    const gates: Record<string, GateStatus> = {};
    let ready = !this.draining;
    for (const [name, probe] of this.gates) {
      let status: GateStatus;
      try {
        status = probe();
      } catch (err) {
        status = { ready: false, detail: (err as Error).message };
      }
      gates[name] = status;
      if (!status.ready) ready = false;
    }
    return { ready, draining: this.draining, gates };
  }
}
