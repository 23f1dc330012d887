// The event body of POST /api/event (contract §2).

/**
 * A payload from the page's state and the event's own fields ({type, name, props, revenue,
 * click, form}); absent fields are left out by JSON.stringify.
 */
export const buildPayload = (cfg, loc, doc, fields) =>
  Object.assign({ site: cfg.site, url: loc.href, referrer: doc.referrer || null }, fields);

const isObject = (v) => v != null && typeof v == 'object' && !Array.isArray(v);

/** props must be a plain object; anything else is dropped. */
export const cleanProps = (v) => (isObject(v) ? v : undefined);

/** Parse data-goal-props; invalid JSON or a non-object gives undefined. */
export function parseProps(text) {
  try {
    return cleanProps(JSON.parse(text));
  } catch (e) {
    // invalid JSON: ignored
  }
}

/**
 * {amount, currency}; a number amount is sent as its shortest decimal text (29.99 -> "29.99"),
 * so no binary floating point reaches the server.
 */
export const cleanRevenue = (r) =>
  isObject(r) && r.amount != null && r.currency
    ? { amount: typeof r.amount == 'number' ? String(r.amount) : r.amount, currency: String(r.currency) }
    : undefined;
