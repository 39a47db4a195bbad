/** The throughput baseline's activity: a round trip through Temporal and nothing else. */
export async function noop(): Promise<void> {}
