// File Download: a click on a link to a file, by the extension of the link's path.

import { attr, safe } from './util.js';

// Plausible's list of file types (tracker/src/plausible.js, fileTypesToTrack)
export const EXTENSIONS =
  'pdf xlsx docx txt rtf csv exe key pps ppt pptx 7z pkg rar gz zip avi mov mp4 mpeg wmv midi mp3 wav wma dmg';

/** The default list plus data-download-extensions ("epub,key" or "epub key"; dots ignored). */
export const readExtensions = (extra) => (EXTENSIONS + ' ' + (extra || '')).toLowerCase().split(/[\s,.]+/);

/** The extension (lower case, no dot) of an http(s) link's path when it is in the list. */
export function downloadExtension(href, loc, extensions) {
  try {
    const u = new URL(href, loc.href);
    const m = /\.([^./]+)$/.exec(u.pathname);
    const ext = m && m[1].toLowerCase();
    if (/^https?:$/.test(u.protocol) && extensions.includes(ext)) return [u.href, ext];
  } catch (e) {
    // not a URL
  }
}

/** Emits `File Download` {url, extension} for left (with any modifier) and middle clicks. */
export function watchDownloads(win, emit, script) {
  const extensions = readExtensions(attr(script, 'data-download-extensions'));
  const handler = safe((e) => {
    if (e.type == 'auxclick' && e.button != 1) return;
    const a = e.target.closest('a[href]');
    const found = a && downloadExtension(attr(a, 'href'), win.location, extensions);
    if (found) emit({ type: 'custom', name: 'File Download', props: { url: found[0], extension: found[1] } });
  });
  win.document.addEventListener('click', handler, true);
  win.document.addEventListener('auxclick', handler, true);
}
