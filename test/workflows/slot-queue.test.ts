/**
 * The governor's grant order, as pure logic: FIFO within a tenant, round robin across tenants.
 */
import { SlotQueue } from '../../src/workflows/slot-queue';

const request = (sessionId: string, tenant: string | null) => ({ sessionId, tenant, requestedAt: '2026-01-01T00:00:00.000Z' });

test('first come, first served within one tenant', () => {
  const queue = new SlotQueue();
  for (const id of ['a1', 'a2', 'a3']) queue.enqueue(request(id, 'a'));
  expect(queue.order().map((r) => r.sessionId)).toEqual(['a1', 'a2', 'a3']);
  expect([queue.next()?.sessionId, queue.next()?.sessionId, queue.next()?.sessionId, queue.next()]).toEqual(['a1', 'a2', 'a3', undefined]);
});

test("one tenant's burst does not starve another tenant's single session", () => {
  const queue = new SlotQueue();
  for (let i = 1; i <= 100; i++) queue.enqueue(request(`a${i}`, 'a'));
  queue.enqueue(request('b1', 'b'));
  queue.enqueue(request('n1', null));
  const order = queue.order().map((r) => r.sessionId);
  console.log(`fairness: b1 at position ${order.indexOf('b1') + 1}, n1 at ${order.indexOf('n1') + 1} of ${order.length}`);
  expect(order.slice(0, 4)).toEqual(['a1', 'b1', 'n1', 'a2']);
  expect(order.filter((id) => id.startsWith('a'))).toEqual(Array.from({ length: 100 }, (_, i) => `a${i + 1}`));
});

test('a tenant arriving after a burst is served after at most one more of the burst', () => {
  const queue = new SlotQueue();
  for (let i = 1; i <= 10; i++) queue.enqueue(request(`a${i}`, 'a'));
  expect(queue.next()?.sessionId).toBe('a1');
  expect(queue.next()?.sessionId).toBe('a2');
  queue.enqueue(request('b1', 'b'));
  expect([queue.next()?.sessionId, queue.next()?.sessionId]).toEqual(['a3', 'b1']);
});

test('removing waiters, repeated requests, and a snapshot that carries the order', () => {
  const queue = new SlotQueue();
  queue.enqueue(request('a1', 'a'));
  queue.enqueue(request('b1', 'b'));
  queue.enqueue(request('a1', 'a'));
  queue.enqueue(request('a2', 'a'));
  expect(queue.size).toBe(3);
  expect(queue.remove('b1')).toBe(true);
  expect(queue.remove('b1')).toBe(false);
  const copy = new SlotQueue(JSON.parse(JSON.stringify(queue.snapshot())));
  expect(copy.order().map((r) => r.sessionId)).toEqual(['a1', 'a2']);
  expect(queue.has('a2')).toBe(true);
});
