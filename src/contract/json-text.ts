import { z } from 'zod';

/** A variable holding JSON: parsed, then checked by `schema`; `expected` says what to write instead. */
export function jsonText<S extends z.ZodType>(schema: S, expected: string) {
  return z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
