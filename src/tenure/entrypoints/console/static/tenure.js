// Small enhancements on top of server-rendered pages; everything works without them.
(function () {
  "use strict";
  function dialog() { return document.getElementById("dialog"); }

  // On <html>, which boosted navigation keeps: the stylesheet folds the narrow top bar only
  // when this script runs to open it again.
  document.documentElement.classList.add("js");
  function setMenu(toggle, open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.closest(".topbar").classList.toggle("open", open);
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".menu-toggle");
    if (toggle) { setMenu(toggle, toggle.getAttribute("aria-expanded") !== "true"); }
  });
  document.addEventListener("keydown", function (event) {
    var toggle = document.querySelector(".menu-toggle[aria-expanded=true]");
    if (event.key === "Escape" && toggle) {
      setMenu(toggle, false);
      toggle.focus();
    }
  });

  // The control that opened the dialog gets focus back when it closes.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var d = dialog();
    if (!(d && d.open) && event.detail.elt && event.detail.elt.closest && !event.detail.elt.closest("dialog")) {
      opener = event.detail.elt;
    }
  });

  // A control inside a menu that has since closed cannot take focus: its menu button does.
  function focusControl(control) {
    var menu = control.closest("details");
    var target = menu && !menu.open ? menu.querySelector("summary") : control;
    target.focus();
    return document.activeElement === target;
  }
  function focusOpener() {
    return !!opener && document.body.contains(opener) && focusControl(opener);
  }

  // A form error moves focus to its summary, so a keyboard or screen-reader user hears it first.
  function focusError(root) {
    var alert = Array.prototype.find.call(root.querySelectorAll("[role=alert]"), function (el) {
      return el.getClientRects().length > 0 && !el.closest("dialog:not([open])");
    });
    if (!alert) { return false; }
    if (!alert.hasAttribute("tabindex")) { alert.setAttribute("tabindex", "-1"); }
    alert.focus();
    return document.activeElement === alert;
  }

  // A form or confirmation fetched into the dialog opens it, focused on its error or its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dialog-body") {
      var d = dialog();
      if (d && !d.open) { d.showModal(); }
      if (d && focusError(d)) { return; }
      var first = d && d.querySelector("input:not([type=hidden]), select, textarea, button");
      if (first) { first.focus(); }
    }
  });
  // After an action or a failed form the page is swapped in place: focus the error summary,
  // else the same control if it is still there, else the one-line message that says what
  // happened — never nothing.
  document.addEventListener("htmx:afterSettle", function () {
    var d = dialog();
    if ((d && d.open) || (document.activeElement && document.activeElement !== document.body)) { return; }
    if (focusError(document.querySelector("main") || document.body)) { opener = null; return; }
    var key = opener && opener.getAttribute("hx-get");
    var again = key && document.querySelector('[hx-get="' + key.replace(/"/g, '\\"') + '"]');
    var flash = document.querySelector(".flash");
    if (flash && !flash.hasAttribute("tabindex")) { flash.setAttribute("tabindex", "-1"); }
    if (!(again && focusControl(again)) && flash) { flash.focus(); }
    opener = null;
  });
  document.addEventListener("DOMContentLoaded", function () {
    wrapTables(document);
    focusError(document.querySelector("main") || document.body);
  });

  // A table a template left unwrapped still scrolls inside its own box, named by its caption
  // (templates wrap theirs with the scroll_region macro, which works without this script).
  function wrapTables(root) {
    root.querySelectorAll("table.data").forEach(function (table) {
      if (table.parentElement.classList.contains("table-scroll")) { return; }
      var region = document.createElement("div");
      var caption = table.querySelector("caption");
      region.className = "table-scroll";
      region.setAttribute("role", "region");
      region.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
      region.tabIndex = 0;
      table.parentNode.insertBefore(region, table);
      region.appendChild(table);
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) { wrapTables(event.detail.target || document); });

  // A date the browser could not read (30 February) is refused at the field instead of being
  // sent blank, which the server would take as "no change".
  document.addEventListener("submit", function (event) {
    var bad = null;
    event.target.querySelectorAll("input[type=date]").forEach(function (input) {
      input.setCustomValidity("");
      if (!bad && input.validity.badInput) { bad = input; }
    });
    if (bad) {
      bad.setCustomValidity("Enter a real date: this one does not exist.");
      bad.setAttribute("aria-invalid", "true");
      bad.reportValidity();
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("input", function (event) {
    if (event.target.type === "date") { event.target.setCustomValidity(""); }
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

  // The dialog empties when closed, so a stale form is never shown again; focus goes back to
  // the control that opened it (Esc, "Keep as it is", or after the action).
  document.addEventListener("close", function (event) {
    if (event.target && event.target.id === "dialog") {
      document.getElementById("dialog-body").innerHTML = "";
      focusOpener();
    }
  }, true);

  // "Copy" beside a value shown once (a set-password link, a webhook secret).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value).catch(function () {}); }
    button.textContent = "Copied";
  });

  // A preview counts what was ticked then: changing the form afterwards withdraws "Save"
  // until the change is previewed again.
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (!form) { return; }
    form.querySelectorAll("[data-stale-on-change]").forEach(function (button) {
      button.disabled = true;
      button.textContent = "Preview again to save";
    });
  });
})();
