export * from './heygen';
export * from './governor';
export * from './notify';
export * from './archive';
export * from './heygen-metrics';
