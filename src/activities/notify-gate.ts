/**
 * The worker's share of notification attempts: at most `total` in flight at once, and at most
 * `perTenant` of one tenant. An attempt over its share does not wait (a waiting attempt would hold an
 * activity slot all the same): it is refused at once, and the workflow retries it after its backoff.
 */
export class NotificationGate {
  private inFlight = 0;
  private readonly byTenant = new Map<string, number>();

  constructor(
    readonly total: number,
    readonly perTenant: number,
  ) {}

  /** Takes a place for `tenant`, or says whose share is full. The returned release is safe to call twice. */
  enter(tenant: string): { release: () => void } | { full: 'total' | 'tenant'; inFlight: number } {
    const ofTenant = this.byTenant.get(tenant) ?? 0;
    if (this.inFlight >= this.total) return { full: 'total', inFlight: this.inFlight };
    if (ofTenant >= this.perTenant) return { full: 'tenant', inFlight: ofTenant };
    this.inFlight++;
    this.byTenant.set(tenant, ofTenant + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        const left = (this.byTenant.get(tenant) ?? 1) - 1;
        if (left > 0) this.byTenant.set(tenant, left);
        else this.byTenant.delete(tenant);
      },
    };
  }

  /** Attempts in flight now (for tests and logs). */
  get size(): number {
    return this.inFlight;
  }
}
