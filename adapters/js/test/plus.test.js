// The automatic events of goalpost.plus.js (contract §8): File Download, Scroll Depth, Video Play.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EXTENSIONS, downloadExtension, readExtensions, watchDownloads } from '../src/downloads.js';
import { depthsReached, watchScroll } from '../src/scroll.js';
import { watchVideos } from '../src/videos.js';
import { el } from './fake-dom.js';

const loc = { href: 'https://example.com/docs/', origin: 'https://example.com', hostname: 'example.com' };
const built = (name) => readFileSync(new URL(`../../../server/static/${name}`, import.meta.url), 'utf8');

test('downloads: the contract list is in the default list', () => {
  const list = readExtensions(null);
  for (const ext of 'pdf zip dmg pkg exe csv xlsx docx pptx mp3 mp4'.split(' ')) assert.ok(list.includes(ext), ext);
  assert.ok(!list.includes('epub'));
  assert.ok(!list.includes('html'));
  assert.equal(EXTENSIONS.split(' ').length, 26);
});

test('downloads: data-download-extensions adds to the list, comma or space separated, dots ignored', () => {
  for (const extra of ['epub,key', 'epub key', 'epub, key', '.epub .key', 'EPUB,Key'])
    assert.ok(readExtensions(extra).includes('epub') && readExtensions(extra).includes('key'), extra);
  assert.ok(readExtensions('epub').includes('pdf')); // added to, not replaced
});

test('downloads: the extension of the link path, lower case, without the dot', () => {
  const list = readExtensions('epub');
  assert.deepEqual(downloadExtension('/files/report.PDF?x=1#p2', loc, list), ['https://example.com/files/report.PDF?x=1#p2', 'pdf']);
  assert.deepEqual(downloadExtension('https://cdn.example.org/a/book.epub', loc, list), ['https://cdn.example.org/a/book.epub', 'epub']);
  assert.deepEqual(downloadExtension('setup.exe', loc, list), ['https://example.com/docs/setup.exe', 'exe']);
  for (const href of ['/page.html', '/pdf', '/files.pdf/', '/report.pdf.html', 'mailto:a@b.pdf', 'javascript:void(0)', 'http://[x'])
    assert.equal(downloadExtension(href, loc, list), undefined, href);
});

function fakeWindow() {
  const listeners = {};
  const on = (t, fn) => (listeners[t] = listeners[t] || []).push(fn);
  const sent = [];
  const win = {
    location: { ...loc, pathname: '/docs/' },
    scrollY: 0,
    innerHeight: 1000,
    document: { addEventListener: on, documentElement: { scrollHeight: 4000 }, body: { scrollHeight: 0 } },
    addEventListener: on,
  };
  const fire = (t, e = {}) => (listeners[t] || []).forEach((fn) => fn({ type: t, ...e }));
  const emit = (f) => sent.push(f);
  return { win, fire, sent, emit };
}

test('downloads: left and middle clicks on a file link emit File Download {url, extension}', () => {
  const { win, fire, sent, emit } = fakeWindow();
  watchDownloads(win, emit, el('script', { 'data-download-extensions': 'epub' }));
  const link = el('a', { href: '/b/guide.epub' }, [el('span', {}, [], 'Guide')]);
  fire('click', { target: link.children[0], button: 0 });
  fire('auxclick', { target: link, button: 1 });
  fire('auxclick', { target: link, button: 2 }); // the context menu: not a download
  fire('click', { target: el('a', { href: '/about' }), button: 0 });
  const event = { type: 'custom', name: 'File Download', props: { url: 'https://example.com/b/guide.epub', extension: 'epub' } };
  assert.deepEqual(sent, [event, event]);
});

test('scroll: the depths reached; none when the page fits the viewport', () => {
  assert.deepEqual(depthsReached(1000, 4000, 1000), []);
  assert.deepEqual(depthsReached(2000, 4000, 1000), [50]);
  assert.deepEqual(depthsReached(3599, 4000, 1000), [50, 75]);
  assert.deepEqual(depthsReached(3600, 4000, 1000), [50, 75, 90]);
  assert.deepEqual(depthsReached(1000, 1000, 1000), []);
  assert.deepEqual(depthsReached(900, 800, 900), []);
});

test('scroll: each depth once per page view, again after a new page view', () => {
  const { win, fire, sent, emit } = fakeWindow();
  const newPageView = watchScroll(win, emit);
  const scrollTo = (y) => {
    win.scrollY = y;
    fire('scroll');
  };
  scrollTo(1000); // bottom at 2000 px = 50 %
  scrollTo(0);
  scrollTo(1000);
  scrollTo(3000); // 100 %: 75 and 90 at once
  scrollTo(3000);
  assert.deepEqual(sent.map((e) => [e.name, e.props.depth, e.props.path]), [
    ['Scroll Depth', 50, '/docs/'],
    ['Scroll Depth', 75, '/docs/'],
    ['Scroll Depth', 90, '/docs/'],
  ]);
  newPageView();
  win.location.pathname = '/next/';
  scrollTo(2000);
  assert.deepEqual(sent.slice(3).map((e) => [e.props.depth, e.props.path]), [[50, '/next/'], [75, '/next/']]);
});

test('scroll: a page that fits the viewport sends nothing', () => {
  const { win, fire, sent, emit } = fakeWindow();
  win.document.documentElement.scrollHeight = 1000;
  watchScroll(win, emit);
  fire('scroll');
  assert.deepEqual(sent, []);
});

test('video: the first play of each <video> per page view, {src}; not <audio>', () => {
  const { win, fire, sent, emit } = fakeWindow();
  const newPageView = watchVideos(win, emit);
  const a = { tagName: 'VIDEO', currentSrc: 'https://example.com/a.mp4', src: '' };
  const b = { tagName: 'VIDEO', currentSrc: '', src: 'https://example.com/b.webm' };
  fire('play', { target: a });
  fire('play', { target: a });
  fire('play', { target: b });
  fire('play', { target: { tagName: 'AUDIO', currentSrc: 'x.mp3' } });
  assert.deepEqual(sent.map((e) => [e.name, e.props.src]), [
    ['Video Play', 'https://example.com/a.mp4'],
    ['Video Play', 'https://example.com/b.webm'],
  ]);
  newPageView();
  fire('play', { target: a });
  assert.equal(sent.length, 3);
});

test('goalpost.js has none of the plus events; goalpost.plus.js has each', () => {
  const plus = built('goalpost.plus.js');
  const core = built('goalpost.js');
  for (const name of ['File Download', 'Scroll Depth', 'Video Play', 'data-download-extensions']) {
    assert.ok(plus.includes(name), name);
    assert.ok(!core.includes(name), name);
  }
});
