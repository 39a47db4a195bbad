/**
 * `npm install` on the Node version we declare prints no EBADENGINE warning: every locked package
 * accepts the running Node (package.json's overrides pick versions that do).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const lock = JSON.parse(readFileSync(path.join(__dirname, '..', 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }>;
};
const declared = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

test(`every locked package accepts Node ${process.version} and the lowest version we declare (${declared})`, () => {
  const lowest = semver.minVersion(declared)!.version;
  const refusing = Object.entries(lock.packages)
    .filter(([name, entry]) => name && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
    .filter(([, entry]) => {
      const range = (entry.engines as { node: string }).node;
      return !semver.satisfies(process.version, range) || !semver.satisfies(lowest, range);
    })
    .map(([name, entry]) => `${name.replace(/^.*node_modules\//, '')} wants node ${(entry.engines as { node: string }).node}`);
  expect(refusing).toEqual([]);
});
