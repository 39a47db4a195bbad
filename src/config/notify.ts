/**
 * Where notifications may go (src/net-addresses.ts is the policy): read by the API, which checks a
 * session's `notify.url` at create, and by the worker, which checks it again before every connection.
 */
import { z } from 'zod';
import { boolean } from './env';

const PORT_LIST = 'expected a comma-separated list of port numbers between 1 and 65535, for example 7233,8233';

/** `7233, 8233` → [7233, 8233]. */
export const portList = z.string().transform((value, context) => {
  const ports = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (!ports.every((part) => /^[0-9]{1,5}$/.test(part) && Number(part) >= 1 && Number(part) <= 65535)) {
    context.addIssue({ code: 'custom', message: PORT_LIST });
    return z.NEVER;
  }
  return [...new Set(ports.map(Number))];
});

export const notifyTargetEnv = {
  NOTIFY_ALLOW_PRIVATE: boolean.default(false),
  NOTIFY_DENIED_PORTS: portList.default([]),
};

export function notifyTargetSection(env: { NOTIFY_ALLOW_PRIVATE: boolean; NOTIFY_DENIED_PORTS: number[] }) {
  return {
    /** Whether notifications may go to loopback, private or reserved addresses and local names (`npm start` allows them). */
    allowPrivate: env.NOTIFY_ALLOW_PRIVATE,
    /** Ports notifications never go to, on any address: this machine's own services (`npm start` adds the ports it started). */
    deniedPorts: env.NOTIFY_DENIED_PORTS,
  };
}
