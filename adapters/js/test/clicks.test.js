import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outboundUrl, visibleText } from '../src/clicks.js';
import { el } from './fake-dom.js';

test('visible text: innerText with whitespace collapsed and trimmed', () => {
  const a = el('a', { class: 'btn btn-primary', id: 'buy-cta', href: 'https://x.test/' });
  a.innerText = '\n   Buy\u00a0 \t now \n';
  assert.equal(visibleText(a), 'Buy now');
});

test('visible text: textContent where innerText is unavailable', () => {
  const a = el('a', { href: 'https://x.test/' }, [el('span', {}, [], '  Shop  '), el('b', {}, [], '\nnow ')]);
  assert.equal(visibleText(a), 'Shop now');
});

test('visible text: never a class or id', () => {
  const a = el('a', { class: 'amazon-link', id: 'cta-1', href: 'https://x.test/' });
  a.innerText = '   ';
  assert.equal(visibleText(a), '');
});

test('visible text: text-less links fall back to aria-label, title, then image alt', () => {
  const img = el('img', { alt: ' Product  photo ', class: 'thumb' });
  assert.equal(visibleText(el('a', { 'aria-label': 'Open cart' }, [img])), 'Open cart');
  assert.equal(visibleText(el('a', { title: 'Cart' }, [img])), 'Cart');
  assert.equal(visibleText(el('a', {}, [img])), 'Product photo');
});

test('visible text is capped at 500 characters', () => {
  const a = el('a', {});
  a.innerText = 'x'.repeat(900);
  assert.equal(visibleText(a).length, 500);
});

test('outbound: only http(s) links to another host', () => {
  const loc = { href: 'https://example.com/post/1', hostname: 'example.com' };
  assert.equal(outboundUrl('https://www.amazon.de/dp/B08N5WRWNW', loc), 'https://www.amazon.de/dp/B08N5WRWNW');
  assert.equal(outboundUrl('//cdn.other.org/a?b=c', loc), 'https://cdn.other.org/a?b=c');
  assert.equal(outboundUrl('/pricing', loc), undefined);
  assert.equal(outboundUrl('https://example.com/about', loc), undefined);
  assert.equal(outboundUrl('#top', loc), undefined);
  assert.equal(outboundUrl('mailto:hi@other.org', loc), undefined);
  assert.equal(outboundUrl('javascript:void(0)', loc), undefined);
  assert.equal(outboundUrl('http://[bad', loc), undefined);
});
