// Checks on the built files, server/static/goalpost.js and goalpost.plus.js (the same tests for
// each; plus.test.js checks what only the plus build does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import vm from 'node:vm';

for (const [file, budget] of [
  ['goalpost.js', 2048],
  ['goalpost.plus.js', 3072],
]) {
  const code = readFileSync(new URL(`../../../server/static/${file}`, import.meta.url), 'utf8');

  test(`${file}: within the ${budget / 1024} KB gzip budget`, () => {
    assert.ok(gzipSync(code, { level: 9 }).length <= budget);
  });

  test(`${file}: nothing a CSP without unsafe-eval/unsafe-inline forbids; no cookies`, () => {
    for (const bad of ['eval(', 'new Function', 'Function(', 'setTimeout("', '.style', 'cssText', 'innerHTML', 'cookie'])
      assert.ok(!code.includes(bad), bad);
  });

  function sandbox() {
    const listeners = [];
    const sent = [];
    const doc = {
      currentScript: {
        getAttribute: (n) =>
          ({ src: 'https://stats.test/js/goalpost.js', 'data-site': 'site.test', 'data-allow-automation': '' })[n] ?? null,
      },
      referrer: '',
      addEventListener: (t) => listeners.push(t),
      querySelectorAll: () => [],
      getElementById: () => null,
    };
    const win = {
      document: doc,
      location: { href: 'https://site.test/', hostname: 'site.test', origin: 'https://site.test' },
      history: { pushState() {}, replaceState() {} },
      navigator: { webdriver: true, sendBeacon: (u, b) => sent.push([u, b]) },
      localStorage: {},
      addEventListener: (t) => listeners.push(t),
      goalpost: { track() {}, q: [['Queued', { a: 1 }]] },
      URL,
      Blob,
      JSON,
      String,
      Object,
      Array,
    };
    win.window = win;
    return { win, sent, listeners };
  }

  test(`${file}: defines no global but goalpost, sends the pageview then the queue`, async () => {
    const { win, sent, listeners } = sandbox();
    const before = new Set(Object.keys(win));
    vm.runInNewContext(code, win);
    const added = Object.keys(win).filter((k) => !before.has(k));
    assert.deepEqual(added, []); // goalpost already existed (the snippet's stub) ...
    assert.equal(typeof win.goalpost.track, 'function'); // ... and was replaced by the real API
    assert.equal(win.goalpost.q, undefined);
    assert.equal(sent.length, 2);
    assert.equal(sent[0][0], 'https://stats.test/api/event');
    const bodies = await Promise.all(sent.map(([, b]) => b.text().then(JSON.parse)));
    assert.deepEqual(bodies, [
      { site: 'site.test', url: 'https://site.test/', referrer: null, type: 'pageview' },
      { site: 'site.test', url: 'https://site.test/', referrer: null, type: 'custom', name: 'Queued', props: { a: 1 } },
    ]);
    for (const t of ['click', 'auxclick', 'submit', 'wpcf7mailsent', 'gform/post_render', 'popstate', 'DOMContentLoaded', 'load'])
      assert.ok(listeners.includes(t), t);
  });

  test(`${file}: without the snippet, goalpost is the only global added`, () => {
    const { win } = sandbox();
    delete win.goalpost;
    const before = new Set(Object.keys(win));
    vm.runInNewContext(code, win);
    assert.deepEqual(Object.keys(win).filter((k) => !before.has(k)), ['goalpost']);
  });

  test(`${file}: a broken page environment never makes the script throw`, () => {
    const { win } = sandbox();
    win.document.addEventListener = () => {
      throw new Error('hostile page');
    };
    assert.doesNotThrow(() => vm.runInNewContext(code, win));
  });
}
