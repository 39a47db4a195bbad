/**
 * What /openapi.json and /docs say beyond the route schemas: the package's own version, and a description
 * for every response (the generator writes "Default Response" wherever a schema carries none).
 */
import { STATUS_CODES } from 'node:http';
import { ERROR_STATUS } from './errors';

const GENERATED_PLACEHOLDER = 'Default Response';

/** Status → the error codes an error body may carry with it. */
const CODES_BY_STATUS = Object.entries(ERROR_STATUS).reduce<Record<string, string[]>>((byStatus, [code, status]) => {
  (byStatus[String(status)] ??= []).push(code);
  return byStatus;
}, {});

export function responseDescription(status: string): string {
  const reason = STATUS_CODES[Number(status)] ?? status;
  const codes = CODES_BY_STATUS[status];
  return codes ? `${reason}: an error body, \`error.code\` ${codes.map((code) => `\`${code}\``).join(', ')} (docs/api.md, Errors)` : reason;
}

type Operation = { responses?: Record<string, { description?: string }> };

/** Gives every response the generator left undescribed its status's description. */
export function describeResponses<T extends { paths?: object }>(document: T): T {
  for (const methods of Object.values(document.paths ?? {}) as (Record<string, unknown> | undefined)[]) {
    for (const operation of Object.values(methods ?? {}) as Operation[]) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!response.description || response.description === GENERATED_PLACEHOLDER) response.description = responseDescription(status);
      }
    }
  }
  return document;
}
