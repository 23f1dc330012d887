// Small helpers shared by every module. Nothing here touches globals at import time.

/** Wrap a handler so that nothing it does can ever throw into the host page. */
export function safe(fn) {
  return function () {
    try {
      return fn.apply(this, arguments);
    } catch (e) {
      // swallowed on purpose: analytics must never break the site
    }
  };
}

/** Collapse every run of whitespace (incl. newlines and no-break spaces) and trim. */
export const collapse = (s) => (s == null ? '' : String(s).replace(/\s+/g, ' ').trim());

/** The attribute value, or null (also for a missing element). */
export const attr = (el, name) => (el && el.getAttribute ? el.getAttribute(name) : null);
