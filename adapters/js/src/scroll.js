// Scroll Depth: once per page view each, when the bottom of the viewport passes 50, 75 and 90 %
// of the page's height. A page that fits the viewport sends none.

import { safe } from './util.js';

export const DEPTHS = [50, 75, 90];

/** The depths reached by a viewport bottom at `bottom` px on a page `height` px tall. */
export const depthsReached = (bottom, height, viewport) =>
  height > viewport ? DEPTHS.filter((d) => bottom >= (height * d) / 100) : [];

/** Listens to scrolling; returns the function that starts a new page view. */
export function watchScroll(win, emit) {
  let sent = {};
  const doc = win.document;
  win.addEventListener(
    'scroll',
    safe(() => {
      const height = Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0);
      depthsReached(win.scrollY + win.innerHeight, height, win.innerHeight).forEach((depth) => {
        if (!sent[depth]) {
          sent[depth] = 1;
          emit({ type: 'custom', name: 'Scroll Depth', props: { depth, path: win.location.pathname } });
        }
      });
    }),
    { passive: true }
  );
  return () => {
    sent = {};
  };
}
