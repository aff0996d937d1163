/**
 * Test support: the error code a synchronous call throws, so a test can assert a
 * refusal's stable code in one expression.
 * @module
 */

/**
 * Calls `fn` and returns the `code` of what it throws.
 * @returns the thrown value's `code` (undefined when it has none), or undefined when `fn` returns normally
 */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}
