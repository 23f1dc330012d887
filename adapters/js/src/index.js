// Entry point: wires the modules to the page. Built into one IIFE: no global but `goalpost`.

import { findScript, readConfig } from './config.js';
import { makeSender } from './transport.js';
import { buildPayload } from './payload.js';
import { watchPages } from './pageviews.js';
import { watchClicks } from './clicks.js';
import { watchForms } from './forms.js';
import { installApi } from './api.js';
import { safe } from './util.js';

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
  watchPages(win, function () {
    forms.reset();
    emit({ type: 'pageview' });
  });
  installApi(win, emit); // after the pageview: queued calls belong to this page view
  forms.scan();
})();
