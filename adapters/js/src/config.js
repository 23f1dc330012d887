// Configuration from the <script> tag's data-* attributes.

import { attr } from './util.js';

/** The tracker's own <script> element. */
export const findScript = (doc) => doc.currentScript || doc.querySelector('script[src*="goalpost."]');

/**
 * data-site: the site's registered domain (default: the page's host name);
 * data-api: the ingestion endpoint (default: the script's own origin + /api/event);
 * data-allow-automation: send even when navigator.webdriver is set (tests);
 * data-forms: the form sources reported from the browser, space-separated words of
 * "cf7 wpforms gravity html" (absent: all), e.g. "html" where a WordPress plugin reports the
 * form plugins' submissions from the server. Kept as text: forms.js reads it.
 */
export function readConfig(script, loc) {
  const src = attr(script, 'src');
  return {
    site: attr(script, 'data-site') || loc.hostname,
    endpoint: attr(script, 'data-api') || (src ? new URL(src, loc.href).origin : loc.origin) + '/api/event',
    automation: attr(script, 'data-allow-automation') != null,
    forms: attr(script, 'data-forms'),
  };
}
