/* Carte mobilité inclusion: focus and announcements around htmx swaps.
   Every page works without this file; it only keeps keyboard and
   screen-reader users oriented when htmx replaces part of a page. */
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 100);
  }

  function focusFirst(root) {
    var summary = root.querySelector("#error-summary");
    var heading = summary || root.querySelector("h1");
    if (heading) {
      heading.focus();
      return true;
    }
    return false;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) target.setAttribute("aria-busy", "true");
    var form = event.detail.elt;
    if (form && form.tagName === "FORM") {
      form.querySelectorAll("[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target) target.removeAttribute("aria-busy");
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.isConnected) {
      form.querySelectorAll("[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "main") {
      focusFirst(target);
    } else if (!document.activeElement || document.activeElement === document.body) {
      // The focused control was replaced: put focus back where it was.
      var next = target.querySelector("[autofocus], input:checked, input, button, a[href]");
      (next || target).focus();
    }
  });

  // A response names what changed where focus does not move (HX-Trigger: announce).
  document.addEventListener("announce", function (event) {
    announce(event.detail && event.detail.value);
  });
})();
