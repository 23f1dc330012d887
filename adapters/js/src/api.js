// The page's API: window.goalpost.track(name, props?, revenue?), incl. calls queued before load.

import { cleanProps, cleanRevenue } from './payload.js';
import { safe } from './util.js';

/**
 * Replaces the snippet's stub (window.goalpost = {track: ... push to .q}) by the real API and
 * replays the queued calls in order.
 */
export function installApi(win, emit) {
  var track = safe(function (name, props, revenue) {
    if (typeof name !== 'string' || !name) return;
    emit({ type: 'custom', name: name, props: cleanProps(props), revenue: cleanRevenue(revenue) });
  });
  var stub = win.goalpost;
  var queue = (stub && stub.q) || [];
  win.goalpost = { track: track, loaded: true };
  for (var i = 0; i < queue.length; i++) track.apply(null, queue[i]);
}
