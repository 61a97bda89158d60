/** Named readiness gates (key sets loaded, service tokens warmed, SpiceDB reachable…). */
export interface GateStatus {
  readonly ready: boolean;
  readonly detail?: string;
}

export class Readiness {
  private readonly gates = new Map<string, () => GateStatus>();
  private draining = false;

  register(name: string, probe: () => GateStatus): void {
    this.gates.set(name, probe);
  }

  startDraining(): void {
    this.draining = true;
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
