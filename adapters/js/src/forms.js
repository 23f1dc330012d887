// Form submissions, each by the signal its plugin really emits (tests/fixtures/forms/).
// Only identifiers leave the browser: never a value a visitor typed.

import { attr, collapse, safe } from './util.js';

/**
 * Whether Contact Form 7, WPForms or Gravity Forms owns the form: those are reported by their
 * plugin's own success signal only; every other form is a plain HTML form.
 */
export const ownedByPlugin = (form) =>
  !!(form.matches('.wpcf7-form,.wpforms-form,[id^="gform_"]') || form.closest('.wpcf7,.gform_wrapper'));

const textOf = (root, selector) => {
  const el = root && root.querySelector(selector);
  return (el && collapse(el.textContent)) || undefined;
};

/** Contact Form 7's wpcf7mailsent detail, identifiers only (never inputs, formData, apiResponse). */
export const cf7Form = (d) => ({
  plugin: 'cf7',
  contactFormId: d.contactFormId,
  unitTag: d.unitTag,
  containerPostId: d.containerPostId,
  status: d.status,
});

/** WPForms: the form's data-formid (else the AJAX answer's form_id) and its title if shown. */
export const wpformsForm = (form, json) => ({
  plugin: 'wpforms',
  formId: attr(form, 'data-formid') || String((json && json.data && json.data.form_id) || '') || undefined,
  title: textOf(form, '.wpforms-title'),
});

/** A plain form: its name and id attributes. */
export const htmlForm = (form) => ({ plugin: 'html', name: attr(form, 'name'), id: attr(form, 'id') });

/**
 * Listens for every plugin's success signal and emits {type:'form', form} once per submission;
 * a Gravity Forms confirmation once per form id per page view (reset() starts a page view).
 */
export function watchForms(win, emit, sources) {
  const doc = win.document;
  const byId = (id) => doc.getElementById(id);
  const jqs = [];
  const titles = {};
  let seen = {};
  // data-forms (absent: every source): a source left out is still watched (its forms are not
  // plain HTML forms), never sent
  const send = (form) =>
    (sources == null || sources.split(' ').indexOf(form.plugin) >= 0) && emit({ type: 'form', form });

  // Gravity Forms titles are only in the DOM while the form is: remember them before a
  // confirmation replaces the wrapper (iframe mode).
  const rememberTitles = () =>
    doc.querySelectorAll('[id^="gform_wrapper_"]').forEach((w) => {
      titles[w.id.slice(14)] = textOf(w, '.gform_title') || titles[w.id.slice(14)];
    });

  const gravity = (id) => {
    id = String(id);
    if (/^\d+$/.test(id) && !seen[id]) {
      seen[id] = 1;
      send({ plugin: 'gravity', formId: id, title: textOf(byId('gform_wrapper_' + id), '.gform_title') || titles[id] });
    }
  };

  // Contact Form 7: a native CustomEvent bubbling from the form (from div.wpcf7 before 5.4).
  doc.addEventListener(
    'wpcf7mailsent',
    safe((e) => send(cf7Form(e.detail)))
  );

  // Gravity Forms fires this on every render; only one showing a confirmation counts.
  doc.addEventListener(
    'gform/post_render',
    safe((e) => {
      const id = e.detail.formId;
      if (byId('gform_confirmation_wrapper_' + id)) gravity(id);
      else rememberTitles();
    })
  );

  // WPForms, and Gravity Forms' iframe mode, trigger jQuery events, which native listeners never
  // see: attach through each jQuery the page has, whenever it appears (checked when the tracker
  // starts, on DOMContentLoaded, on load and on every submit, before any AJAX answer).
  const attach = safe(() => {
    const $ = win.jQuery;
    if (typeof $ == 'function' && jqs.indexOf($) < 0) {
      jqs.push($);
      $(doc).on(
        'wpformsAjaxSubmitSuccess',
        safe((e, json) => {
          const form = wpformsForm((e.target.closest && e.target.closest('form')) || e.target, json);
          // without a form id the server could only refuse it
          if (form.formId) send(form);
        })
      );
      $(doc).on(
        'gform_confirmation_loaded',
        safe((e, formId) => gravity(formId))
      );
    }
  });

  // Plain HTML forms.
  doc.addEventListener(
    'submit',
    safe((e) => {
      attach();
      const f = e.target;
      if (f.tagName == 'FORM' && !ownedByPlugin(f)) send(htmlForm(f));
    }),
    true
  );

  const scan = safe(() => {
    attach();
    // Gravity Forms' default full-page postback: the confirmation is on the page as it loads.
    rememberTitles();
    doc.querySelectorAll('[id^="gform_confirmation_wrapper_"]').forEach((w) => gravity(w.id.slice(27)));
  });
  doc.addEventListener('DOMContentLoaded', scan);
  win.addEventListener('load', scan);

  return {
    scan,
    reset: () => {
      seen = {};
    },
  };
}
