/**
 * The few assertions the Deno check needs, written against web-standard APIs only, so
 * the check depends on nothing a registry would have to serve.
 * @module
 */

/**
 * Fails with a message when a condition is false.
 * @param condition - what must hold
 * @param message - what went wrong, shown on failure
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Fails unless two values are equal (`===`).
 * @param actual - the value computed
 * @param expected - the value the vector publishes
 * @param what - names the value in the failure message
 */
export function assertEquals<T>(actual: T, expected: T, what: string): void {
  assert(actual === expected, `${what}: expected ${String(expected)}, got ${String(actual)}`);
}

/**
 * Fails unless two byte arrays hold the same bytes.
 * @param actual - the bytes computed
 * @param expected - the bytes the vector publishes
 * @param what - names the value in the failure message
 */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const same = actual.length === expected.length && actual.every((b, i) => b === expected[i]);
  assert(same, `${what}: expected ${expected.length} bytes, got ${actual.length} that differ`);
}

/**
 * Fails unless calling `fn` throws an error carrying the given stable code.
 * @param fn - the call that must refuse its input
 * @param code - the `code` the thrown error must carry
 * @param what - names the case in the failure message
 */
export function assertThrowsCode(fn: () => unknown, code: string, what: string): void {
  try {
    fn();
  } catch (error) {
    assertEquals((error as { code?: unknown }).code, code, `${what}: error code`);
    return;
  }
  throw new Error(`${what}: expected ${code}, but nothing was thrown`);
}

/**
 * Reads a file of the repository, located relative to the calling module.
 * @param path - the path relative to `base`
 * @param base - the caller's `import.meta.url`
 * @returns the file's bytes
 */
export async function readBytes(path: string, base: string): Promise<Uint8Array> {
  const response = await fetch(new URL(path, base));
  assert(response.ok, `Cannot read ${path}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
