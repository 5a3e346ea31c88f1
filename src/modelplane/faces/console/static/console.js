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

  /* --- Parameters --- */
  // <table data-parameters-live="/console/parameters/C/N/events?since=R"> follows the
  // namespace's changes (an EventSource on the console's own route): each `change` event's
  // data is {revision, configs: [{key, value, format, revision}], deleted: [key]}; the rows
  // of keys set get their new value, new keys get a row, deleted keys are marked.
  function parameterRow(table, key) {
    var rows = table.querySelectorAll("tr[data-key]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-key") === key) { return rows[i]; }
    }
    return null;
  }

  function newParameterRow(table, key) {
    var row = document.createElement("tr");
    row.setAttribute("data-key", key);
    var head = document.createElement("th");
    head.setAttribute("scope", "row");
    head.className = "mono row-key";
    head.textContent = key;
    row.appendChild(head);
    var value = document.createElement("pre");
    value.className = "param-value";
    value.setAttribute("data-field", "value");
    var format = document.createElement("span");
    format.className = "badge";
    format.setAttribute("data-field", "format");
    [value, format].forEach(function (inner) {
      var cell = document.createElement("td");
      cell.appendChild(inner);
      row.appendChild(cell);
    });
    ["revision", "updated"].forEach(function (name) {
      var cell = document.createElement("td");
      cell.setAttribute("data-field", name);
      row.appendChild(cell);
    });
    var actions = document.createElement("td");
    actions.className = "actions";
    var owner = table.getAttribute("data-owner");
    var query = "?key=" + encodeURIComponent(key) + (owner ? "&owner=" + encodeURIComponent(owner) : "");
    [["edit", "Edit"], ["delete", "Delete"]].forEach(function (pair) {
      var link = document.createElement("a");
      link.href = table.getAttribute("data-edit-base") + "/" + pair[0] + query;
      link.textContent = pair[1];
      link.setAttribute("aria-label", pair[1] + " " + key);
      actions.appendChild(link);
      actions.appendChild(document.createTextNode(" "));
    });
    row.appendChild(actions);
    table.querySelector("tbody").appendChild(row);
    var empty = document.getElementById("no-parameters");
    if (empty) { empty.remove(); }
    return row;
  }

  function setField(row, name, text) {
    var cell = row.querySelector("[data-field='" + name + "']");
    if (cell) { cell.textContent = text; }
  }

  function applyParameterChanges(table, changes) {
    (changes.configs || []).forEach(function (config) {
      var row = parameterRow(table, config.key) || newParameterRow(table, config.key);
      row.classList.remove("gone");
      setField(row, "value", config.value);
      setField(row, "format", config.format);
      setField(row, "revision", String(config.revision));
      setField(row, "updated", "just now");
      row.classList.add("changed");
    });
    (changes.deleted || []).forEach(function (key) {
      var row = parameterRow(table, key);
      if (!row) { return; }
      row.classList.add("gone");
      setField(row, "value", "(deleted)");
    });
    var revision = document.getElementById("ns-revision");
    if (revision) { revision.textContent = String(changes.revision); }
    var status = document.getElementById("live-status");
    if (status) {
      status.textContent = "live: revision " + changes.revision + " arrived at " +
        new Date().toLocaleTimeString();
    }
    table.setAttribute("data-live-revision", String(changes.revision));
  }

  function startParametersLive(table) {
    var url = table.getAttribute("data-parameters-live");
    if (!url || typeof EventSource === "undefined") { return; }
    var source = new EventSource(url);
    source.addEventListener("change", function (event) {
      var changes;
      try { changes = JSON.parse(event.data); } catch (e) { return; }
      applyParameterChanges(table, changes);
    });
    source.addEventListener("open", function () { table.setAttribute("data-live", "open"); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirstInvalid();
    document.querySelectorAll("[data-live-url]").forEach(startLive);
    confirmButtons();
    document.querySelectorAll("[data-parameters-live]").forEach(startParametersLive);
  });
})();

/* --- Keys and Audit --- */
(function () {
  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  // <input data-browser-zone>: a form's time zone, left blank by the server (UTC), gets
  // the browser's, so the dates typed are the person's local dates.
  function fillZones(zone) {
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
      if (!input.value && zone) { input.value = zone; }
    });
  }

  // <form data-zone-form> (the audit log): a list asked for without a time zone is asked
  // again in the browser's, so its times and dates are local.
  function localList(zone) {
    if (!zone || zone === "UTC" || !document.querySelector("form[data-zone-form]")) { return; }
    var url = new URL(window.location.href);
    if (url.searchParams.has("timeZone")) { return; }
    url.searchParams.set("timeZone", zone);
    window.location.replace(url.toString());
  }

  // <button data-copy="ID" hidden>: shown with the script; copies the value of element ID
  // (a new key's token) and says so in [data-copied-for="ID"].
  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var id = button.getAttribute("data-copy");
      var source = document.getElementById(id);
      var said = document.querySelector("[data-copied-for='" + id + "']");
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        function done(text) { if (said) { said.textContent = text; } }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(source.value).then(
            function () { done("Copied."); },
            function () { source.select(); done("Selected: press Ctrl+C (or Cmd+C) to copy."); }
          );
        } else {
          source.select();
          done("Selected: press Ctrl+C (or Cmd+C) to copy.");
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var zone = browserZone();
    fillZones(zone);
    localList(zone);
    copyButtons();
  });
})();

// --- Prompts ---
// The editor's variables as you type: <ul data-variables-of="id1 id2"> lists the distinct
// ${name} placeholders of those textareas, in order of first appearance, as the server
// reads them (placeholders.py: a letter or _, then letters, digits, _ . -, at most 64;
// $${name} is literal text).
(function () {
  var PLACEHOLDER = /\$(\$?)\{([\p{L}\p{M}_][\p{L}\p{M}\p{N}\p{Pc}.\-]{0,63})\}/gu;

  function variablesOf(text) {
    var found = [];
    var match;
    PLACEHOLDER.lastIndex = 0;
    while ((match = PLACEHOLDER.exec(text)) !== null) {
      if (!match[1] && found.indexOf(match[2]) < 0) { found.push(match[2]); }
    }
    return found;
  }

  function watchVariables(list) {
    var sources = list.getAttribute("data-variables-of").split(" ")
      .map(function (id) { return document.getElementById(id); })
      .filter(function (element) { return element !== null; });
    var none = document.getElementById("variables-none");
    function update() {
      var names = [];
      sources.forEach(function (source) {
        variablesOf(source.value).forEach(function (name) {
          if (names.indexOf(name) < 0) { names.push(name); }
        });
      });
      list.textContent = "";
      names.forEach(function (name) {
        var item = document.createElement("li");
        var code = document.createElement("code");
        code.textContent = name;
        item.appendChild(code);
        list.appendChild(item);
      });
      if (none) { none.hidden = names.length > 0; }
    }
    sources.forEach(function (source) { source.addEventListener("input", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-variables-of]").forEach(watchVariables);
  });
})();
