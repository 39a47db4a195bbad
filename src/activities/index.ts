export * from './heygen';
export * from './governor';
