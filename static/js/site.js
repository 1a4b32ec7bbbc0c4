/* Carte mobilité inclusion: focus, dialogs and the session warning around htmx.
   Every page works without this file; it keeps keyboard and screen-reader
   users oriented when htmx replaces part of a page. */
(function () {
  "use strict";

  var saying = null;
  var clearing = null;

  /* The status region says what changed where focus does not move, then empties:
     old news must not trail at the end of the next page. */
  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) return;
    silence();
    saying = window.setTimeout(function () { region.textContent = text; }, 100);
    clearing = window.setTimeout(function () { region.textContent = ""; }, 8000);
  }

  function silence() {
    var region = document.getElementById("announcer");
    window.clearTimeout(saying);
    window.clearTimeout(clearing);
    if (region) region.textContent = "";
  }

  function setSubmitting(form, busy) {
    if (!form || form.tagName !== "FORM" || !form.isConnected) return;
    form.querySelectorAll("[type=submit]").forEach(function (button) {
      button.disabled = busy;
    });
  }

  /* htmx's events come from the element that asked (a form, a link); its detail's
     « ctx » holds the request: the element to swap, and the answer once it came. */
  function swapped(event) {
    var ctx = event.detail && event.detail.ctx;
    return ctx && ctx.target instanceof Element ? ctx.target : null;
  }

  document.addEventListener("htmx:before:request", function (event) {
    var target = swapped(event);
    if (target) target.setAttribute("aria-busy", "true");
    setSubmitting(event.target, true);
  });

  // A new page (its <main> or <body> swapped): nothing of the last one is announced.
  document.addEventListener("htmx:before:swap", function (event) {
    var target = swapped(event);
    if (target && (target.id === "main" || target === document.body)) silence();
  });

  // The request is over, its answer swapped in (or it failed).
  document.addEventListener("htmx:finally:request", function (event) {
    var target = swapped(event);
    if (target) target.removeAttribute("aria-busy");
    setSubmitting(event.target, false);
    restartSessionTimer();
  });

  function openDialog(dialog) {
    dialog.addEventListener("close", function () {
      var back = document.getElementById(dialog.getAttribute("data-return-focus"));
      dialog.remove();
      if (back) back.focus();
    });
    dialog.showModal();
    // Taller than the screen (a phone, large text), focus on its last buttons would open
    // it scrolled to its end: its title and question unseen. Start from its title then.
    var title = dialog.querySelector("[data-dialog-title]");
    if (title && dialog.scrollHeight > dialog.clientHeight) {
      // htmx focuses the element marked autofocus once settled: mark the title.
      dialog.querySelectorAll("[autofocus]").forEach(function (el) { el.removeAttribute("autofocus"); });
      title.setAttribute("autofocus", "");
      title.focus();
      dialog.scrollTop = 0;
    }
  }

  function markedAutofocus(root) {
    var marked = root.querySelectorAll("[autofocus]");
    for (var i = 0; i < marked.length; i++) {
      if (!marked[i].closest("dialog")) return marked[i];  // a dialog focuses its own
    }
    return null;
  }

  // Each swapped element settles in turn: <main>, and the menu when it comes too.
  document.addEventListener("htmx:after:settle", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var dialog = target.querySelector("dialog[data-modal]:not([open])");
    if (dialog) {
      openDialog(dialog);
    } else if (target.id === "main" || target === document.body) {
      // Where a page loaded whole puts it: what it marks autofocus (a message, the
      // error summary), else its heading. htmx focuses the same marked element next.
      var first = markedAutofocus(target) || target.querySelector("h1");
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

  /* After « Payer »: the form to the payment provider sends itself, once: when
     its page loads (except when the back button brings the user back to it), or
     when htmx brings it in the answer to « Payer », which says so by an event. */
  function sendToProvider() {
    var form = document.querySelector("form[data-auto-submit]");
    if (!form) return;
    form.removeAttribute("data-auto-submit");
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var entry = performance.getEntriesByType("navigation")[0];
    if (entry && entry.type === "back_forward") return;
    sendToProvider();
  });

  document.addEventListener("send-to-provider", sendToProvider);

  /* Session time-out (WCAG 2.2.1): warn before the end, let the user stay signed
     in; the draft request is kept either way. The limits come from the page (one
     server setting); the dialog is looked up when needed, since signing in with
     htmx replaces the whole <body>, the dialog with it. */
  var warningTimer = null;
  var endTimer = null;

  function sessionDialog() {
    return document.getElementById("session-dialog");
  }

  function restartSessionTimer() {
    var dialog = sessionDialog();
    window.clearTimeout(warningTimer);
    window.clearTimeout(endTimer);
    if (!dialog) return;
    var idle = Number(dialog.getAttribute("data-idle-seconds")) * 1000;
    var warning = Number(dialog.getAttribute("data-warning-seconds")) * 1000;
    warningTimer = window.setTimeout(function () {
      var current = sessionDialog();
      if (current && !current.open) current.showModal();
    }, idle - warning);
    endTimer = window.setTimeout(function () {
      var current = sessionDialog();
      if (current) window.location.assign(current.getAttribute("data-expired-url"));
    }, idle);
  }

  function stayConnected(dialog) {
    var form = dialog.querySelector("form");
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  // « Rester connecté(e) » answered: close the warning and say so.
  document.addEventListener("htmx:finally:request", function (event) {
    var dialog = sessionDialog();
    var answer = event.detail.ctx && event.detail.ctx.response;
    if (!dialog || !dialog.contains(event.target) || !answer || answer.status >= 400) return;
    if (dialog.open) dialog.close();
    announce(dialog.getAttribute("data-extended"));
  });

  // Escape on the warning: someone is there, so the session is extended too
  // (closing it silently would end the session two minutes later, unannounced).
  document.addEventListener("cancel", function (event) {
    var dialog = sessionDialog();
    if (event.target !== dialog) return;
    event.preventDefault();
    stayConnected(dialog);
  }, true);

  document.addEventListener("DOMContentLoaded", restartSessionTimer);

  /* A file over its limit is not sent (minutes on a slow connection, for a refusal):
     the form says so instead, and the server answers with its own message. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM") return;
    form.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      var name = input.name + "-trop-lourde";
      var marker = form.querySelector("input[name='" + name + "']");
      if (marker) marker.remove();
      var file = input.files && input.files[0];
      if (!file || file.size <= Number(input.getAttribute("data-max-bytes"))) return;
      marker = document.createElement("input");
      marker.type = "hidden";
      marker.name = name;
      marker.value = String(file.size);
      form.appendChild(marker);
      input.value = "";
    });
  }, true);
})();
