// The door page's service worker: a door phone that reloads or restarts while the venue
// network is down still opens the door page, which then decides scans from the list it
// keeps in browser storage and queues them (ui/door/engine.rs).
//
// Served as /door-sw.js with the running release's RELEASE and ASSETS written above this
// line (server/src/http/assets.rs); registered by the door page for the scope /door/, so
// it sees only the door page's own requests. It keeps exactly two kinds of thing:
// - the door page itself, network first: each online load replaces the copy, a refusal
//   (signed out, no longer door staff, gone) removes it, and while the server cannot be
//   reached or fails (5xx) the copy is shown;
// - the release's files named after their content (those the page names, and any the
//   page loads later), cache first.
// Every other request (the list, scans, server functions) passes through untouched.
// A new release is a new script (its ASSETS differ): it caches the new assets and drops
// the old release's cache. Signing out deletes every cache whose name starts with
// "haven-door-" (ui/door/engine.rs).

const CACHE = `haven-door-${RELEASE}`;
const CONTENT_NAMED = /^\/pkg\/[^/]+\.[A-Za-z0-9_-]{22}\.[a-z]+$/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('haven-door-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
      // The door page that registered this worker loaded before it could keep it.
      const cache = await caches.open(CACHE);
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const client of windows) {
        const url = new URL(client.url);
        if (url.origin === self.location.origin && url.pathname.startsWith('/door/')) {
          await keepPage(cache, url.href, await fetch(url.href).catch(() => null));
        }
      }
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname.startsWith('/door/')) {
    event.respondWith(doorPage(event));
  } else if (CONTENT_NAMED.test(url.pathname)) {
    event.respondWith(asset(request));
  }
});

async function doorPage(event) {
  const request = event.request;
  const cache = await caches.open(CACHE);
  let response;
  try {
    response = await fetch(request);
  } catch (unreachable) {
    const kept = await cache.match(request.url);
    if (kept) return kept;
    throw unreachable;
  }
  if (response.status >= 500) {
    const kept = await cache.match(request.url);
    if (kept) return kept;
    return response;
  }
  event.waitUntil(keepPage(cache, request.url, response.clone()));
  return response;
}

// Keeps the page when the server served it, with every file named after its content
// that the page names (with a split build, the door's own parts of the wasm), and
// forgets it when the server refused it.
async function keepPage(cache, url, response) {
  if (!response || response.status >= 500) return;
  if (response.status !== 200 || response.type !== 'basic') {
    await cache.delete(url);
    return;
  }
  const html = await response.clone().text();
  await cache.put(url, response);
  const named = new Set([...html.matchAll(/\/pkg\/[^"'\s<>?#]+/g)].map((m) => m[0]));
  for (const path of named) {
    if (CONTENT_NAMED.test(path) && !(await cache.match(path, { ignoreVary: true }))) {
      await cache.add(path).catch(() => {});
    }
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.status === 200) await cache.put(request, response.clone());
  return response;
}
