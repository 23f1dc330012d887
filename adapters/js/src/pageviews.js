// Pageviews: one on load and one per single-page-app navigation, never twice in a row for a URL.
// A change of the #fragment alone (an in-page anchor) is not a new page.

import { safe } from './util.js';

/**
 * Calls onPage() now and after every history.pushState / replaceState / popstate that lands on a
 * URL other than the last one reported (compared without the #fragment).
 */
export function watchPages(win, onPage) {
  let last;
  const check = safe(() => {
    const url = win.location.href.split('#')[0];
    if (url !== last) {
      last = url;
      onPage();
    }
  });
  const h = win.history;
  ['pushState', 'replaceState'].forEach((m) => {
    const orig = h[m];
    if (typeof orig == 'function')
      h[m] = function () {
        const r = orig.apply(this, arguments); // the page's own errors stay the page's
        check();
        return r;
      };
  });
  win.addEventListener('popstate', check);
  check();
}
