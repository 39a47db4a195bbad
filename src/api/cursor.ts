/**
 * Listing cursors: Temporal's page token, bound to the listing it belongs to and authenticated with a
 * server-side key (HMAC-SHA256). Temporal answers a garbled page token with an error its client retries
 * until the deadline, so anything we did not issue for this very listing is refused here, at once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;

export class CursorCodec {
  /** `key`: API_CURSOR_SECRET, shared by the instances behind one address, or a per-process random key. */
  constructor(private readonly key: Buffer) {}

  encode(pageToken: Uint8Array, listing: string): string {
    const payload = Buffer.from(pageToken).toString('base64url');
    return `${payload}.${this.mac(payload, listing).toString('base64url')}`;
  }

  /** The page token, or undefined when the cursor was not issued by us for this listing. */
  decode(cursor: string, listing: string): Buffer | undefined {
    const [payload, mac, ...rest] = cursor.split('.');
    if (!payload || !mac || rest.length > 0) return undefined;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(payload, listing);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return Buffer.from(payload, 'base64url');
  }

  private mac(payload: string, listing: string): Buffer {
    return createHmac('sha256', this.key).update(`${listing}\n${payload}`).digest().subarray(0, MAC_BYTES);
  }
}
