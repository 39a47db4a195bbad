/**
 * HTTP `Range` as object storage reads it, shared by the simulator (serving HeyGen's media) and the API
 * (serving archived videos): one range of `bytes=` (`a-b`, `a-`, `-n`); anything else is ignored (the
 * whole file), and a start past the end is unsatisfiable.
 */
export function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  return start > end ? undefined : [start, end];
}
