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
  // A form with data-check is checked by the server as it is typed: the
  // form is posted to that address, which answers {ok, problems}, and the
  // answer is shown in the element the condition field is described by.
  var checked = document.querySelector("form[data-check]");
  if (checked && window.fetch && window.FormData) {
    var out = document.getElementById("rule-check"), timer = 0, seq = 0;
    var check = function () {
      var mine = ++seq;
      fetch(checked.getAttribute("data-check"), { method: "POST", body: new URLSearchParams(new FormData(checked)), credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (a) {
          if (mine !== seq || !out) { return; }
          out.className = a.ok ? "check ok" : "check bad";
          out.textContent = a.ok ? out.getAttribute("data-ok") || "OK" :
            a.problems.map(function (p) { return (p.field ? p.field + ": " : "") + p.detail; }).join("; ");
        }).catch(function () {});
    };
    checked.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
  }
  // The nearest stores: the phone says where it is, the page asks the server.
  var near = document.getElementById("near-me");
  if (near && navigator.geolocation) {
    near.hidden = false;
    near.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("near-lat").value = pos.coords.latitude.toFixed(5);
        document.getElementById("near-lon").value = pos.coords.longitude.toFixed(5);
        document.getElementById("near-form").submit();
      }, function () { document.getElementById("near-hint").textContent = near.getAttribute("data-denied") || ""; });
    });
  }
  // The member app keeps its card page for when the phone is offline.
  if ("serviceWorker" in navigator && document.body.classList.contains("app")) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(function () {});
  }
})();
