import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig } from '../src/config.js';
import { blocked, makeSender } from '../src/transport.js';
import { watchPages } from '../src/pageviews.js';
import { installApi } from '../src/api.js';
import { el } from './fake-dom.js';

const loc = { href: 'https://example.com/a', origin: 'https://example.com', hostname: 'example.com' };

test('config: data-site, data-api, data-allow-automation', () => {
  const s = el('script', {
    src: 'https://stats.example.org/js/goalpost.js',
    'data-site': 'example.com',
    'data-api': 'https://in.example.org/collect',
    'data-allow-automation': '',
  });
  assert.deepEqual(readConfig(s, loc), {
    site: 'example.com',
    endpoint: 'https://in.example.org/collect',
    automation: true,
    forms: null,
  });
});

test("config: the endpoint defaults to the script's own origin; the site to the page host", () => {
  const s = el('script', { src: 'https://stats.example.org:8443/js/goalpost.js?v=1' });
  assert.deepEqual(readConfig(s, loc), {
    site: 'example.com',
    endpoint: 'https://stats.example.org:8443/api/event',
    automation: false,
    forms: null,
  });
  assert.equal(readConfig(el('script', { src: '/js/goalpost.js' }), loc).endpoint, 'https://example.com/api/event');
  assert.equal(readConfig(null, loc).endpoint, 'https://example.com/api/event');
});

test('config: data-forms is read as written (forms.js picks the sources from it)', () => {
  assert.equal(readConfig(el('script', { 'data-forms': 'gravity cf7' }), loc).forms, 'gravity cf7');
});

function fakeWin({ ignore, webdriver, beacon = true, beaconResult = true } = {}) {
  const calls = [];
  const win = {
    localStorage: ignore === 'throws' ? null : ignore ? { goalpost_ignore: ignore } : {},
    navigator: { webdriver: !!webdriver },
    fetch: (url, init) => {
      calls.push(['fetch', url, init]);
      return Promise.resolve();
    },
  };
  if (beacon)
    win.navigator.sendBeacon = (url, data) => {
      calls.push(['beacon', url, data]);
      if (beaconResult === 'throws') throw new TypeError('nope');
      return beaconResult;
    };
  return { win, calls };
}

test('transport: sendBeacon with a text/plain Blob', async () => {
  const { win, calls } = fakeWin();
  makeSender(win, { endpoint: 'https://s.test/api/event' })({ site: 'x', type: 'pageview' });
  assert.equal(calls.length, 1);
  const [kind, url, blob] = calls[0];
  assert.equal(kind, 'beacon');
  assert.equal(url, 'https://s.test/api/event');
  assert.equal(blob.type, 'text/plain');
  assert.deepEqual(JSON.parse(await blob.text()), { site: 'x', type: 'pageview' });
});

for (const why of [{ beacon: false }, { beaconResult: false }, { beaconResult: 'throws' }]) {
  test(`transport: fetch keepalive fallback (${JSON.stringify(why)})`, () => {
    const { win, calls } = fakeWin(why);
    makeSender(win, { endpoint: 'https://s.test/api/event' })({ type: 'pageview' });
    const f = calls.find((c) => c[0] === 'fetch');
    assert.ok(f);
    assert.equal(f[1], 'https://s.test/api/event');
    assert.deepEqual(f[2], {
      method: 'POST',
      keepalive: true,
      body: '{"type":"pageview"}',
      headers: { 'Content-Type': 'text/plain' },
    });
  });
}

test('transport: a failing fetch never throws', () => {
  const { win } = fakeWin({ beacon: false });
  win.fetch = () => {
    throw new Error('blocked');
  };
  assert.doesNotThrow(() => makeSender(win, { endpoint: '/e' })({}));
});

test('transport: localStorage.goalpost_ignore = "true" stops all sending', () => {
  const { win, calls } = fakeWin({ ignore: 'true' });
  makeSender(win, { endpoint: '/e' })({ type: 'pageview' });
  assert.equal(calls.length, 0);
  assert.equal(blocked(fakeWin({ ignore: 'false' }).win, {}), false);
  assert.equal(blocked(fakeWin({ ignore: 'throws' }).win, {}), false);
});

test('transport: navigator.webdriver skips unless data-allow-automation', () => {
  assert.equal(blocked(fakeWin({ webdriver: true }).win, { automation: false }), true);
  assert.equal(blocked(fakeWin({ webdriver: true }).win, { automation: true }), false);
  assert.equal(blocked(fakeWin().win, { automation: false }), false);
});

function historyWin(start) {
  const listeners = {};
  const win = {
    location: { href: start },
    history: {
      pushState(state, title, url) {
        win.location.href = new URL(url, win.location.href).href;
      },
      replaceState(state, title, url) {
        if (url === 'throw') throw new DOMException('SecurityError');
        if (url != null) win.location.href = new URL(url, win.location.href).href;
      },
    },
    addEventListener: (t, h) => (listeners[t] = h),
    pop(url) {
      win.location.href = url;
      listeners.popstate({});
    },
  };
  return win;
}

test('pageviews: on load, pushState, replaceState, popstate; never twice in a row for a URL', () => {
  const win = historyWin('https://e.test/');
  const seen = [];
  watchPages(win, () => seen.push(win.location.href));
  win.history.replaceState({}, ''); // routers do this on load
  win.history.replaceState({}, '', '/');
  win.history.pushState({}, '', '/a');
  win.history.pushState({}, '', '/a');
  win.history.replaceState({}, '', '/b');
  win.pop('https://e.test/a');
  win.pop('https://e.test/a');
  win.pop('https://e.test/a#section-2'); // an in-page anchor: not a new page
  win.history.pushState({}, '', '/c#x');
  assert.deepEqual(seen, ['https://e.test/', 'https://e.test/a', 'https://e.test/b', 'https://e.test/a', 'https://e.test/c#x']);
});

test("pageviews: the page's own history errors still reach the page", () => {
  const win = historyWin('https://e.test/');
  watchPages(win, () => {});
  assert.throws(() => win.history.replaceState({}, '', 'throw'));
});

test('api: queued calls are replayed in order, then track() sends directly', () => {
  const args = (...a) => a; // stands for the snippet's `arguments`
  const win = { goalpost: { track() {}, q: [args('Signup'), args('Purchase', { plan: 'pro' }, { amount: 9.5, currency: 'EUR' })] } };
  const sent = [];
  installApi(win, (f) => sent.push(f));
  win.goalpost.track('Later', [1], 'bad');
  win.goalpost.track(42);
  win.goalpost.track('');
  assert.deepEqual(JSON.parse(JSON.stringify(sent)), [
    { type: 'custom', name: 'Signup' },
    { type: 'custom', name: 'Purchase', props: { plan: 'pro' }, revenue: { amount: '9.5', currency: 'EUR' } },
    { type: 'custom', name: 'Later' },
  ]);
});

test('api: track() never throws into the page', () => {
  const win = {};
  installApi(win, () => {
    throw new Error('boom');
  });
  assert.doesNotThrow(() => win.goalpost.track('X'));
});
