// Kopilka's pages work without this script; it adds small comforts only.
// Served from the same origin (the Content-Security-Policy allows no other
// script and no inline script).
(function () {
  "use strict";
  // Forms that change something irreversible ask first (data-confirm).
  document.addEventListener("submit", function (e) {
    var msg = (e.submitter && e.submitter.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // The member app keeps its card page for when the phone is offline.
  if ("serviceWorker" in navigator && document.body.classList.contains("app")) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(function () {});
  }
})();
