// Sending: navigator.sendBeacon with a text/plain body (no CORS preflight), else fetch keepalive.

/** Whether this browser must not send anything. */
export function blocked(win, cfg) {
  try {
    if (win.localStorage.goalpost_ignore === 'true') return true;
  } catch (e) {
    // storage unavailable (sandboxed frame, privacy mode): not an opt-out
  }
  return !!win.navigator.webdriver && !cfg.automation;
}

export const makeSender = (win, cfg) => (payload) => {
  if (blocked(win, cfg)) return;
  const body = JSON.stringify(payload);
  const nav = win.navigator;
  try {
    if (nav.sendBeacon(cfg.endpoint, new Blob([body], { type: 'text/plain' }))) return;
  } catch (e) {
    // no sendBeacon, or it refused: fall through to fetch
  }
  try {
    win
      .fetch(cfg.endpoint, { method: 'POST', keepalive: true, body, headers: { 'Content-Type': 'text/plain' } })
      .catch(() => {});
  } catch (e) {
    // no transport at all: give up silently
  }
};
