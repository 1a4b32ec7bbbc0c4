/* Carte mobilité inclusion: focus, dialogs and the session warning around htmx.
   Every page works without this file; it keeps keyboard and screen-reader
   users oriented when htmx replaces part of a page. */
(function () {
  "use strict";

  var SESSION_MINUTES = 30;
  var WARNING_MINUTES = 2;

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 100);
  }

  function setSubmitting(form, busy) {
    if (!form || form.tagName !== "FORM" || !form.isConnected) return;
    form.querySelectorAll("[type=submit]").forEach(function (button) {
      button.disabled = busy;
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) target.setAttribute("aria-busy", "true");
    setSubmitting(event.detail.elt, true);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target) target.removeAttribute("aria-busy");
    setSubmitting(event.detail.elt, false);
    restartSessionTimer();
  });

  function openDialog(dialog) {
    dialog.addEventListener("close", function () {
      var back = document.getElementById(dialog.getAttribute("data-return-focus"));
      dialog.remove();
      if (back) back.focus();
    });
    dialog.showModal();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) return;
    var dialog = target.querySelector("dialog[data-modal]:not([open])");
    if (dialog) {
      openDialog(dialog);
    } else if (target.id === "main" || target === document.body) {
      var first = target.querySelector("#error-summary") || target.querySelector("h1");
      if (first) first.focus();
    } else if (!target.contains(document.activeElement) &&
               (!document.activeElement || document.activeElement === document.body)) {
      // The focused control was replaced: put focus back on its successor.
      var next = target.querySelector("[autofocus], input:checked, input, select, button, a[href]");
      if (next) next.focus();
    }
  });

  // A response names what changed where focus does not move (HX-Trigger: announce).
  document.addEventListener("announce", function (event) {
    announce(event.detail && event.detail.value);
  });

  // « Imprimer »: a button only where scripts run; without them the page says how.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });

  /* After « Payer »: the form to the payment provider sends itself, except when
     the back button brings the user back to it. */
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-auto-submit]");
    if (!form) return;
    var entry = performance.getEntriesByType("navigation")[0];
    if (entry && entry.type === "back_forward") return;
    form.submit();
  });

  /* Session time-out (WCAG 2.2.1): warn two minutes before the end, let the
     user stay signed in; the draft request is kept either way. */
  var warningTimer = null;
  var endTimer = null;

  function restartSessionTimer() {
    var dialog = document.getElementById("session-dialog");
    if (!dialog) return;
    window.clearTimeout(warningTimer);
    window.clearTimeout(endTimer);
    warningTimer = window.setTimeout(function () {
      if (!dialog.open) dialog.showModal();
    }, (SESSION_MINUTES - WARNING_MINUTES) * 60000);
    endTimer = window.setTimeout(function () {
      window.location.assign(dialog.getAttribute("data-expired-url"));
    }, SESSION_MINUTES * 60000);
  }

  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt === document.body) restartSessionTimer();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("session-dialog");
    if (!dialog) return;
    restartSessionTimer();
    dialog.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.successful) {
        dialog.close();
        announce("Votre session est prolongée de 30 minutes.");
      }
    });
  });
})();
