// The tracker of contract §5, wired up to the page; `extras` are the optional watchers that
// goalpost.plus.js adds (§8). Each extra is called once as extra(win, emit, script) and may
// return a function that starts a new page view (called before each pageview is sent).
// PLUS is a build-time constant (build.mjs): false for goalpost.js, so that its 2 KB budget
// carries none of the extras' wiring.

import { findScript, readConfig } from './config.js';
import { makeSender } from './transport.js';
import { buildPayload } from './payload.js';
import { watchPages } from './pageviews.js';
import { watchClicks } from './clicks.js';
import { watchForms } from './forms.js';
import { installApi } from './api.js';
import { safe } from './util.js';

export const start = (extras) =>
  safe(function () {
    var win = window;
    var doc = document;
    if (win.goalpost && win.goalpost.loaded) return; // the tag is on the page twice
    var cfg = readConfig(findScript(doc), win.location);
    var send = makeSender(win, cfg);
    var emit = function (fields) {
      send(buildPayload(cfg, win.location, doc, fields));
    };
    var forms = watchForms(win, emit, cfg.forms);
    watchClicks(win, emit);
    if (PLUS)
      var resets = extras.map(function (extra) {
        return extra(win, emit, findScript(doc)); // still running the script: currentScript holds
      });
    watchPages(win, function () {
      forms.reset();
      if (PLUS)
        resets.forEach(function (reset) {
          reset && reset();
        });
      emit({ type: 'pageview' });
    });
    installApi(win, emit); // after the pageview: queued calls belong to this page view
    forms.scan();
  })();
