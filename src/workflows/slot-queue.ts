/**
 * The order in which queued sessions get a HeyGen job slot: first come (by when the session started,
 * not when its request happened to arrive), first served within a tenant,
 * and round robin across tenants, so one tenant's burst of 100 waits its turn behind another tenant's
 * single session instead of starving it. Pure data, so the governor workflow can carry it across
 * continue-as-new and tests can check the order without a server.
 */

import type { SlotQueueSnapshot, SlotRequest } from '../contract/governor';

const tenantKey = (tenant: string | null): string => (tenant === null ? '' : `t:${tenant}`);

export class SlotQueue {
  private readonly waiting: SlotRequest[];
  private readonly rotation: string[];

  constructor(snapshot?: SlotQueueSnapshot) {
    this.waiting = snapshot ? [...snapshot.waiting] : [];
    this.rotation = snapshot ? [...snapshot.rotation] : [];
  }

  get size(): number {
    return this.waiting.length;
  }

  has(sessionId: string): boolean {
    return this.waiting.some((request) => request.sessionId === sessionId);
  }

  /** Queues a request in the order sessions were started (`requestedAt`), whenever it arrives. */
  enqueue(request: SlotRequest): void {
    if (this.has(request.sessionId)) return;
    const later = this.waiting.findIndex((waiting) => waiting.requestedAt > request.requestedAt);
    this.waiting.splice(later < 0 ? this.waiting.length : later, 0, request);
    const key = tenantKey(request.tenant);
    if (!this.rotation.includes(key)) this.rotation.push(key);
  }

  remove(sessionId: string): boolean {
    const index = this.waiting.findIndex((request) => request.sessionId === sessionId);
    if (index < 0) return false;
    const [removed] = this.waiting.splice(index, 1);
    this.dropIdleTenant(tenantKey(removed!.tenant));
    return true;
  }

  /** Takes the request to serve next: the oldest of the tenant whose turn it is. */
  next(): SlotRequest | undefined {
    const key = this.rotation.shift();
    if (key === undefined) return undefined;
    const index = this.waiting.findIndex((request) => tenantKey(request.tenant) === key);
    const [request] = this.waiting.splice(index, 1);
    // Served tenants go to the back of the line; a tenant with nothing left leaves it.
    if (this.waiting.some((waiting) => tenantKey(waiting.tenant) === key)) this.rotation.push(key);
    return request;
  }

  /** Every waiting request in the order it will be served (index 0 first). */
  order(): SlotRequest[] {
    const copy = new SlotQueue(this.snapshot());
    const order: SlotRequest[] = [];
    for (let request = copy.next(); request; request = copy.next()) order.push(request);
    return order;
  }

  snapshot(): SlotQueueSnapshot {
    return { waiting: [...this.waiting], rotation: [...this.rotation] };
  }

  private dropIdleTenant(key: string): void {
    if (this.waiting.some((request) => tenantKey(request.tenant) === key)) return;
    const index = this.rotation.indexOf(key);
    if (index >= 0) this.rotation.splice(index, 1);
  }
}
