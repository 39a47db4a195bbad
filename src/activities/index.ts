export * from './heygen';
export * from './governor';
export * from './notify';
