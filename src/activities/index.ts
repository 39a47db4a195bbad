export * from './heygen';
