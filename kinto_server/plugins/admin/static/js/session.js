// Who is signed in: kept for the browser session (sessionStorage) unless the
// user asks to be remembered on this device (localStorage).

const KEY = "kinto-admin-session";

export function load() {
  for (const store of [sessionStorage, localStorage]) {
    const raw = store.getItem(KEY);
    if (!raw) continue;
    try {
      return JSON.parse(raw);
    } catch {
      store.removeItem(KEY);
    }
  }
  return null;
}

export function save(session, remember) {
  clear();
  (remember ? localStorage : sessionStorage).setItem(KEY, JSON.stringify(session));
}

export function clear() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

export function basic(username, password) {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
