// The signed-in token: kept for the tab (sessionStorage); "remember me" keeps it in this
// browser (localStorage). Signing out forgets both.
const KEY = "goalpost_token";

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function keepToken(token: string, remember: boolean) {
  sessionStorage.setItem(KEY, token);
  if (remember) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
