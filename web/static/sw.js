// The member app's service worker: the card page and its codes are kept so
// that the card can be shown at the till when the phone is offline. Only
// those three addresses are kept, and only in this browser's own storage
// (never a shared HTTP cache: every page is sent with no-store); signing
// out, or the sign-in page, empties it.
"use strict";
var CACHE = "kopilka-card-v1";
var KEPT = ["/app/", "/app/card/qr.png", "/app/card/barcode.png"];

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (e) {
  var url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/app/signin") {
    e.waitUntil(caches.delete(CACHE));
    return;
  }
  if (KEPT.indexOf(url.pathname) < 0) { return; }
  e.respondWith(fetch(e.request).then(function (resp) {
    if (resp.ok && !resp.redirected) {
      var copy = resp.clone();
      caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); });
    } else if (resp.redirected) {
      caches.delete(CACHE); // signed out elsewhere: forget the card
    }
    return resp;
  }).catch(function () {
    return caches.open(CACHE).then(function (c) { return c.match(url.pathname); }).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
