// Small enhancements on top of server-rendered pages; everything works without them.
(function () {
  "use strict";
  function dialog() { return document.getElementById("dialog"); }

  // A form or confirmation fetched into the dialog opens it, focused on its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dialog-body") {
      var d = dialog();
      if (d && !d.open) { d.showModal(); }
      var first = d && d.querySelector("input:not([type=hidden]), select, textarea, button");
      if (first) { first.focus(); }
    }
  });

  // Choosing an item in a menu closes the menu.
  document.addEventListener("htmx:beforeRequest", function () {
    document.querySelectorAll("details.menu[open]").forEach(function (m) { m.removeAttribute("open"); });
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    // "Go back" on an error page: the previous page when there is one (no javascript: URL under the CSP).
    if (target.closest && target.closest("[data-back]") && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    if (target.closest && target.closest("[data-close]")) {
      var d = target.closest("dialog");
      if (d) { d.close(); }
      return;
    }
    // A click outside an open menu closes it.
    document.querySelectorAll("details.menu[open]").forEach(function (m) {
      if (!m.contains(target)) { m.removeAttribute("open"); }
    });
  });

  // Escape closes an open menu and gives focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.menu[open]").forEach(function (m) {
      m.removeAttribute("open");
      var summary = m.querySelector("summary");
      if (summary) { summary.focus(); }
    });
  });

  // The dialog empties when closed, so a stale form is never shown again.
  document.addEventListener("close", function (event) {
    if (event.target && event.target.id === "dialog") {
      document.getElementById("dialog-body").innerHTML = "";
    }
  }, true);
})();
