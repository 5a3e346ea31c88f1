// modelplane console: what the pages do with a script. Every form works without it.
// No inline scripts (the Content-Security-Policy refuses them): behaviour is keyed on
// data-* attributes.
"use strict";

(function () {
  // After a refused form, put the keyboard on the first field that broke a rule.
  function focusFirstInvalid() {
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); }
  }

  // Live values: <div data-live-url="/console/..."> opens an EventSource on that URL (a
  // console route, same origin, the session's cookie); each event's data is a JSON
  // object {elementId: text}, and each named element's text is replaced.
  function startLive(element) {
    var url = element.getAttribute("data-live-url");
    if (!url || typeof EventSource === "undefined") { return; }
    var source = new EventSource(url);
    source.onmessage = function (event) {
      var changes;
      try { changes = JSON.parse(event.data); } catch (e) { return; }
      Object.keys(changes).forEach(function (id) {
        var target = document.getElementById(id);
        if (target) { target.textContent = String(changes[id]); }
      });
      element.setAttribute("data-live-updated", String(Date.now()));
    };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // <button data-confirm="text"> asks before its form is sent (delete pages also ask
  // on a page of their own, so this is a shortcut, not the only guard).
  function confirmButtons() {
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirstInvalid();
    document.querySelectorAll("[data-live-url]").forEach(startLive);
    confirmButtons();
  });
})();
