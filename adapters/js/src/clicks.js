// Clicks: outbound links ({url, text}) and elements with data-goal (custom events).

import { attr, collapse, safe } from './util.js';
import { parseProps } from './payload.js';

/**
 * What a visitor reads on the element: its rendered text, whitespace collapsed; for a text-less
 * link (an image, an icon) its aria-label, title or image alt. Never a CSS class or id.
 */
export function visibleText(el) {
  const t =
    collapse(el.innerText != null ? el.innerText : el.textContent) ||
    collapse(attr(el, 'aria-label') || attr(el, 'title') || attr(el.querySelector('img[alt]'), 'alt'));
  return t.slice(0, 500);
}

/** The absolute URL of an http(s) link to another host than the page's, else undefined. */
export function outboundUrl(href, loc) {
  try {
    const u = new URL(href, loc.href);
    if (/^https?:$/.test(u.protocol) && u.hostname != loc.hostname) return u.href;
  } catch (e) {
    // not a URL
  }
}

export function watchClicks(win, emit) {
  const handler = safe((e) => {
    // left clicks (with or without modifier keys) and the middle button
    if (e.type == 'auxclick' && e.button != 1) return;
    const t = e.target;
    const g = t.closest('[data-goal]');
    const name = attr(g, 'data-goal');
    if (name) emit({ type: 'custom', name, props: parseProps(attr(g, 'data-goal-props')) });
    const a = t.closest('a[href]');
    const url = a && outboundUrl(attr(a, 'href'), win.location);
    if (url) emit({ type: 'click', click: { url, text: visibleText(a) } });
  });
  win.document.addEventListener('click', handler, true);
  win.document.addEventListener('auxclick', handler, true);
}
