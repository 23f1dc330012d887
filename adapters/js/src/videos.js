// Video Play: the first play of each <video> on a page view. `play` does not bubble, so it is
// heard in the capture phase on the document, which also covers videos added later.

import { safe } from './util.js';

/** Listens for plays; returns the function that starts a new page view. */
export function watchVideos(win, emit) {
  let played = new WeakSet();
  win.document.addEventListener(
    'play',
    safe((e) => {
      const video = e.target;
      if (video.tagName != 'VIDEO' || played.has(video)) return;
      played.add(video);
      emit({ type: 'custom', name: 'Video Play', props: { src: video.currentSrc || video.src } });
    }),
    true
  );
  return () => {
    played = new WeakSet();
  };
}
