import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cf7Form, htmlForm, ownedByPlugin, watchForms, wpformsForm } from '../src/forms.js';
import { el } from './fake-dom.js';

// Contact Form 7's wpcf7mailsent detail, as in tests/fixtures/forms/cf7.events.json
const CF7_DETAIL = {
  contactFormId: 123,
  pluginVersion: '6.1',
  contactFormLocale: 'en_US',
  unitTag: 'wpcf7-f123-p45-o1',
  containerPostId: 45,
  status: 'mail_sent',
  inputs: [
    { name: 'your-name', value: 'Jane Doe' },
    { name: 'your-email', value: 'jane@example.com' },
    { name: 'your-message', value: 'Hello there' },
  ],
  formData: { $type: 'FormData' },
  apiResponse: { contact_form_id: 123, status: 'mail_sent', message: 'Thank you for your message. It has been sent.' },
};

test('cf7: identifiers only, never inputs, formData or apiResponse', () => {
  const f = cf7Form(CF7_DETAIL);
  assert.deepEqual(f, {
    plugin: 'cf7',
    contactFormId: 123,
    unitTag: 'wpcf7-f123-p45-o1',
    containerPostId: 45,
    status: 'mail_sent',
  });
  const json = JSON.stringify(f);
  for (const typed of ['Jane Doe', 'jane@example.com', 'Hello there', 'inputs', 'formData', 'apiResponse'])
    assert.ok(!json.includes(typed), typed);
});

// markup shapes from tests/fixtures/forms/*.form.html
const cf7 = () => {
  const form = el('form', { class: 'wpcf7-form init', action: '/contact/#wpcf7-f123-p45-o1' }, [
    el('input', { type: 'hidden', name: '_wpcf7', value: '123' }),
  ]);
  el('div', { class: 'wpcf7 no-js', id: 'wpcf7-f123-p45-o1', 'data-wpcf7-id': '123' }, [form]);
  return form;
};
const wpforms = (title = 'Simple Contact Form') =>
  el('form', { id: 'wpforms-form-123', class: 'wpforms-validate wpforms-form wpforms-ajax-form', 'data-formid': '123' }, [
    el('div', { class: 'wpforms-head-container' }, title ? [el('div', { class: 'wpforms-title' }, [], title)] : []),
    el('input', { type: 'hidden', name: 'wpforms[id]', value: '123' }),
  ]);
const gravity = () => {
  const form = el('form', { id: 'gform_1', 'data-formid': '1', method: 'post' });
  el('div', { class: 'gf_browser_chrome gform_wrapper gravity-theme', id: 'gform_wrapper_1' }, [form]);
  return form;
};
const native = () => el('form', { name: 'newsletter', id: 'signup', action: '/subscribe' });

test('form ownership: plugin forms are never counted as plain HTML forms', () => {
  assert.equal(ownedByPlugin(cf7()), true);
  assert.equal(ownedByPlugin(wpforms()), true);
  assert.equal(ownedByPlugin(gravity()), true);
  assert.equal(ownedByPlugin(native()), false);
});

test('form ownership: each marker on its own', () => {
  assert.equal(ownedByPlugin(el('form', { class: 'wpcf7-form' })), true); // CF7 form class
  const legacy = el('form', {});
  el('div', { class: 'wpcf7' }, [legacy]); // inside div.wpcf7
  assert.equal(ownedByPlugin(legacy), true);
  assert.equal(ownedByPlugin(el('form', { class: 'wpforms-form' })), true);
  // data-formid alone is no plugin's mark: such a form is a plain one
  assert.equal(ownedByPlugin(el('form', { 'data-formid': '9' })), false);
  assert.equal(ownedByPlugin(el('form', { id: 'gform_7' })), true);
  const inGfWrapper = el('form', {});
  el('div', { class: 'gform_wrapper' }, [inGfWrapper]);
  assert.equal(ownedByPlugin(inGfWrapper), true);
  assert.equal(ownedByPlugin(el('form', { id: 'my-gform', class: 'contact wpcf7ish' })), false);
  assert.equal(ownedByPlugin(el('form', {})), false);
});

test('wpforms: form id from data-formid, title when shown', () => {
  assert.deepEqual(wpformsForm(wpforms(), { success: true }), {
    plugin: 'wpforms',
    formId: '123',
    title: 'Simple Contact Form',
  });
  const noTitle = wpformsForm(wpforms(null), { success: true, data: {} });
  assert.equal(noTitle.formId, '123');
  assert.equal(noTitle.title, undefined);
});

test('wpforms: the AJAX answer form_id when the form has no data-formid', () => {
  assert.equal(wpformsForm(el('form', {}), { success: true, data: { form_id: 77 } }).formId, '77');
  assert.equal(wpformsForm(el('form', {}), undefined).formId, undefined);
});

test('html: the name and id attributes', () => {
  assert.deepEqual(htmlForm(native()), { plugin: 'html', name: 'newsletter', id: 'signup' });
  assert.deepEqual(htmlForm(el('form', {})), { plugin: 'html', name: null, id: null });
});

test('data-forms: a left-out source is not sent, and its forms are not plain HTML forms', () => {
  const handlers = {};
  const doc = {
    addEventListener: (type, fn) => (handlers[type] = fn),
    querySelectorAll: () => [],
    getElementById: () => null,
  };
  const sent = [];
  watchForms({ document: doc, addEventListener() {} }, (e) => sent.push(e.form.plugin), 'html');
  handlers.wpcf7mailsent({ detail: { contactFormId: 5 } });
  handlers.submit({ target: el('form', { class: 'wpcf7-form' }) });
  assert.deepEqual(sent, []);
  handlers.submit({ target: el('form', { name: 'newsletter' }) });
  assert.deepEqual(sent, ['html']);
});

test('data-forms: the sources listed are sent, all of them when the attribute is absent', () => {
  const sentWith = (sources) => {
    const handlers = {};
    const doc = {
      addEventListener: (type, fn) => (handlers[type] = fn),
      querySelectorAll: () => [],
      getElementById: () => null,
    };
    const sent = [];
    watchForms({ document: doc, addEventListener() {} }, (e) => sent.push(e.form.plugin), sources);
    handlers.wpcf7mailsent({ detail: { contactFormId: 5 } });
    handlers.submit({ target: el('form', { name: 'newsletter' }) });
    return sent;
  };
  assert.deepEqual(sentWith(null), ['cf7', 'html']);
  assert.deepEqual(sentWith('gravity cf7'), ['cf7']);
  assert.deepEqual(sentWith('typeform html'), ['html']);
  assert.deepEqual(sentWith(''), []);
});
