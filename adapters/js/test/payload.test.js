import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPayload, cleanProps, cleanRevenue, parseProps } from '../src/payload.js';

const cfg = { site: 'example.com' };
const loc = { href: 'https://example.com/pricing?plan=pro' };

test('pageview payload: site, type, url, referrer', () => {
  const p = buildPayload(cfg, loc, { referrer: 'https://www.google.com/' }, { type: 'pageview' });
  assert.deepEqual(JSON.parse(JSON.stringify(p)), {
    site: 'example.com',
    type: 'pageview',
    url: 'https://example.com/pricing?plan=pro',
    referrer: 'https://www.google.com/',
  });
});

test('empty referrer is null; absent fields are left out of the JSON', () => {
  const p = buildPayload(cfg, loc, { referrer: '' }, { type: 'custom', name: 'X', props: undefined, revenue: undefined });
  assert.deepEqual(JSON.parse(JSON.stringify(p)), {
    site: 'example.com',
    type: 'custom',
    name: 'X',
    url: loc.href,
    referrer: null,
  });
});

test('custom payload carries name, props and revenue', () => {
  const p = buildPayload(cfg, loc, { referrer: '' }, {
    type: 'custom',
    name: 'Purchase',
    props: { plan: 'pro', seats: 3 },
    revenue: cleanRevenue({ amount: 29.99, currency: 'usd' }),
  });
  assert.equal(p.name, 'Purchase');
  assert.deepEqual(p.props, { plan: 'pro', seats: 3 });
  assert.deepEqual(p.revenue, { amount: '29.99', currency: 'usd' });
});

test('revenue: number amounts become their shortest decimal text, strings pass as they are', () => {
  assert.deepEqual(cleanRevenue({ amount: 19.9, currency: 'EUR' }), { amount: '19.9', currency: 'EUR' });
  assert.deepEqual(cleanRevenue({ amount: '29.990', currency: 'USD' }), { amount: '29.990', currency: 'USD' });
  assert.deepEqual(cleanRevenue({ amount: 0, currency: 'USD' }), { amount: '0', currency: 'USD' });
  assert.equal(cleanRevenue({ amount: 5 }), undefined);
  assert.equal(cleanRevenue({ currency: 'USD' }), undefined);
  assert.equal(cleanRevenue('29.99'), undefined);
  assert.equal(cleanRevenue(null), undefined);
});

test('props must be an object', () => {
  assert.deepEqual(cleanProps({ a: 1 }), { a: 1 });
  assert.equal(cleanProps([1, 2]), undefined);
  assert.equal(cleanProps('x'), undefined);
  assert.equal(cleanProps(null), undefined);
});

test('data-goal-props: valid JSON object parsed, anything else ignored', () => {
  assert.deepEqual(parseProps('{"k":"v","n":2}'), { k: 'v', n: 2 });
  assert.equal(parseProps('{k: v}'), undefined);
  assert.equal(parseProps("{'k':'v'}"), undefined);
  assert.equal(parseProps('[1]'), undefined);
  assert.equal(parseProps('"text"'), undefined);
  assert.equal(parseProps(''), undefined);
  assert.equal(parseProps(null), undefined);
});
