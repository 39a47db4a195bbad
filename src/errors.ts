/**
 * Base class of errors whose message tells the person running the service what to change (a bad
 * variable, a taken port, a missing tool). Entry points print these as plain text, without a stack.
 */
export class UserFacingError extends Error {}
