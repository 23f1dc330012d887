// A tiny fake DOM: just enough of Element for the pure functions under test.
// Selectors supported: .class, [attr], [attr="v"], [attr^="v"], tag, comma lists.

function matchOne(el, sel) {
  sel = sel.trim();
  const m = /^([a-z]*)((?:\.[\w-]+|\[[^\]]+\])*)$/i.exec(sel);
  if (!m) throw new Error('fake-dom: unsupported selector ' + sel);
  if (m[1] && el.tagName.toLowerCase() !== m[1].toLowerCase()) return false;
  for (const part of m[2].match(/\.[\w-]+|\[[^\]]+\]/g) || []) {
    if (part[0] === '.') {
      if (!el.classList.includes(part.slice(1))) return false;
      continue;
    }
    const a = /^\[([\w-]+)(?:(\^?=)"?([^"]*)"?)?\]$/.exec(part);
    const v = el.getAttribute(a[1]);
    if (v == null) return false;
    if (a[2] === '=' && v !== a[3]) return false;
    if (a[2] === '^=' && !v.startsWith(a[3])) return false;
  }
  return true;
}

export class FakeElement {
  constructor(tagName, attrs = {}, children = [], text = '') {
    this.tagName = tagName.toUpperCase();
    this.nodeType = 1;
    this.attrs = { ...attrs };
    this.children = children;
    this.parentElement = null;
    this._text = text;
    for (const c of children) c.parentElement = this;
  }
  get classList() {
    return (this.attrs.class || '').split(/\s+/).filter(Boolean);
  }
  get id() {
    return this.attrs.id || '';
  }
  getAttribute(n) {
    return Object.prototype.hasOwnProperty.call(this.attrs, n) ? this.attrs[n] : null;
  }
  hasAttribute(n) {
    return this.getAttribute(n) != null;
  }
  get textContent() {
    return this._text + this.children.map((c) => c.textContent).join('');
  }
  matches(selectors) {
    return selectors.split(',').some((s) => matchOne(this, s));
  }
  closest(selectors) {
    for (let el = this; el; el = el.parentElement) if (el.matches(selectors)) return el;
    return null;
  }
  querySelector(selectors) {
    for (const c of this.children) {
      if (c.matches(selectors)) return c;
      const found = c.querySelector(selectors);
      if (found) return found;
    }
    return null;
  }
}

export const el = (tag, attrs, children, text) => new FakeElement(tag, attrs, children, text);
