/**
 * Escaping text for the HTML the site writes; every module that builds markup shares it.
 * @module
 */

/**
 * Escapes text for HTML element content.
 * @param text - any text
 * @returns the text with `&`, `<`, `>` and `"` escaped
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Escapes text for a double-quoted (or single-quoted) HTML attribute.
 * @param text - any text
 * @returns the text with `'` escaped too
 */
export function escapeAttr(text: string): string {
  return escapeHtml(text).replace(/'/g, '&#39;');
}
