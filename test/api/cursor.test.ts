/**
 * Listing cursors: only ours, only for the listing they came from.
 */
import { CursorCodec } from '../../src/api/cursor';

const codec = new CursorCodec(Buffer.from('a server-side key of some length'));
const token = Buffer.from([0, 1, 2, 250, 251, 252]);

test('a cursor decodes back to its page token for its own listing', () => {
  expect(codec.decode(codec.encode(token, 'q1'), 'q1')).toEqual(token);
});

test.each([
  ['another listing', codec.encode(token, 'q1'), 'q2'],
  ['another key', new CursorCodec(Buffer.from('somebody else key')).encode(token, 'q1'), 'q1'],
  ['an edited token', `${Buffer.from([9, 9]).toString('base64url')}.${codec.encode(token, 'q1').split('.')[1]}`, 'q1'],
  ['no signature', Buffer.from(token).toString('base64url'), 'q1'],
  ['a truncated signature', codec.encode(token, 'q1').slice(0, -2), 'q1'],
  ['extra parts', `${codec.encode(token, 'q1')}.x`, 'q1'],
  ['nothing', '', 'q1'],
])('%s is refused', (_name, cursor, listing) => {
  expect(codec.decode(cursor, listing)).toBeUndefined();
});
