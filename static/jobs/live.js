/* Live updates for the console. Pages work without this file; with it, the parts of a job that change
   (badge, progress, buttons, and on a job's page its facts, outcome, timeline and log) are fetched
   again every second from the same templates, until every job shown has finished.
   A page with [data-refresh-seconds] (the dashboard) swaps itself for a fresh copy instead. */
(function () {
  "use strict";
  var POLL_MS = 1000;

  function activeIds(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-live-job][data-live-active]"), function (el) {
      return el.getAttribute("data-live-job");
    });
  }

  function apply(root, entry) {
    root.querySelectorAll('[data-live-job="' + entry.id + '"]').forEach(function (el) {
      Object.keys(entry.parts).forEach(function (name) {
        el.querySelectorAll('[data-live-part="' + name + '"]').forEach(function (part) {
          if (part.closest("[data-live-job]") === el && part.innerHTML !== entry.parts[name]) {
            part.innerHTML = entry.parts[name];
          }
        });
      });
      el.setAttribute("data-status", entry.status);
      if (!entry.active) el.removeAttribute("data-live-active");
    });
  }

  function poll(root) {
    var ids = activeIds(root);
    if (!ids.length) return;
    var url = new URL(root.getAttribute("data-live-url"), window.location.href);
    url.searchParams.set("ids", ids.join(","));
    url.searchParams.set("next", window.location.pathname + window.location.search);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.headers.get("Content-Type").indexOf("json") < 0) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        data.jobs.forEach(function (entry) { apply(root, entry); });
        root.setAttribute("data-live-polls", String(Number(root.getAttribute("data-live-polls") || 0) + 1));
      })
      .catch(function () { /* a missed poll is retried on the next tick */ })
      .finally(function () { window.setTimeout(function () { poll(root); }, POLL_MS); });
  }

  function refresh(el) {
    var seconds = Number(el.getAttribute("data-refresh-seconds")) || 5;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(el.id);
          if (fresh) { el.replaceWith(fresh); el = fresh; }
        })
        .catch(function () {})
        .finally(function () { refresh(el); });
    }, seconds * 1000);
  }

  // The list's "select all" box: a convenience, hidden without this script (each row has its own box).
  function selectAll(box) {
    box.hidden = false;
    box.addEventListener("change", function () {
      document.querySelectorAll('input[name="ids"][form="' + box.getAttribute("form") + '"]').forEach(function (one) {
        one.checked = box.checked;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-select-all]").forEach(selectAll);
    document.querySelectorAll("[data-live-url]").forEach(poll);
    document.querySelectorAll("[data-refresh-seconds][id]").forEach(refresh);
  });
})();
