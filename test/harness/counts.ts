/** Tallies for the counts tests print. */
/** How often each value occurs, for the counts a test prints (`{"200": 30}`). */
export function countBy(values: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
