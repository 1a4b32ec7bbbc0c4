/* Carte mobilité inclusion: focus, dialogs and the session warning around htmx.
   Every page works without this file; it keeps keyboard and screen-reader
   users oriented when htmx replaces part of a page. */
(function () {
  "use strict";

  // What only pages without scripts need says so (site.css): the session's limit, which
  // the warning dialog tells here.
  document.documentElement.setAttribute("data-scripts", "");

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
     htmx replaces the whole <body>, the dialog with it.
     Timers do not run while the device sleeps: the end is an instant, checked again
     when the page wakes and before any form leaves. Once it has passed, the form's
     answers go to the service to be kept (never to the form's own action, which would
     act on them), and the browser to the sign-in page (WCAG 2.2.5). */
  var warningTimer = null;
  var endTimer = null;
  var lastActivity = Date.now();
  var leaving = false;

  function sessionDialog() {
    return document.getElementById("session-dialog");
  }

  function sessionEnd(dialog) {
    return lastActivity + Number(dialog.getAttribute("data-idle-seconds")) * 1000;
  }

  function sessionIsOver() {
    var dialog = sessionDialog();
    return !!dialog && Date.now() >= sessionEnd(dialog);
  }

  function restartSessionTimer() {
    lastActivity = Date.now();
    scheduleSession();
  }

  function scheduleSession() {
    var dialog = sessionDialog();
    window.clearTimeout(warningTimer);
    window.clearTimeout(endTimer);
    if (!dialog || leaving) return;
    var left = sessionEnd(dialog) - Date.now();
    if (left <= 0) {
      sessionOver(null);
      return;
    }
    var warning = Number(dialog.getAttribute("data-warning-seconds")) * 1000;
    warningTimer = window.setTimeout(function () {
      var current = sessionDialog();
      if (current && !current.open) current.showModal();
    }, Math.max(0, left - warning));
    endTimer = window.setTimeout(scheduleSession, left);
  }

  // A control whose value is no longer the one the page came with: typed answers.
  function changed(form) {
    return Array.prototype.some.call(form.elements, function (control) {
      var type = control.type;
      if (type === "hidden" || type === "submit" || type === "button" || type === "file") {
        return false;
      }
      if (type === "checkbox" || type === "radio") return control.checked !== control.defaultChecked;
      if (control.tagName === "SELECT") {
        return Array.prototype.some.call(control.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      return "defaultValue" in control && control.value !== control.defaultValue;
    });
  }

  function formWithAnswers() {
    var main = document.getElementById("main");
    if (!main) return null;
    var focused = document.activeElement && document.activeElement.form;
    if (focused && main.contains(focused) && changed(focused)) return focused;
    var forms = main.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (changed(forms[i])) return forms[i];
    }
    return null;
  }

  function sessionOver(form) {
    var dialog = sessionDialog();
    if (!dialog || leaving) return;
    leaving = true;
    window.clearTimeout(warningTimer);
    window.clearTimeout(endTimer);
    if (dialog.open) dialog.close();
    var here = window.location.pathname + window.location.search;
    var signIn = dialog.getAttribute("data-expired-url") + "&next=";
    form = form || formWithAnswers();
    if (form && form.method === "get") {
      // A search: its answers are its address, kept as the page to come back to.
      var action = new URL(form.action, window.location.href);
      action.search = new URLSearchParams(new FormData(form)).toString();
      window.location.assign(signIn + encodeURIComponent(action.pathname + action.search));
      return;
    }
    if (!form) {
      window.location.assign(signIn + encodeURIComponent(here));
      return;
    }
    var keep = document.createElement("form");
    keep.method = "post";
    keep.action = dialog.getAttribute("data-keep-url") + "?next=" + encodeURIComponent(here);
    keep.hidden = true;
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string") return;  // a file is not kept
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      field.value = value;
      keep.appendChild(field);
    });
    document.body.appendChild(keep);
    HTMLFormElement.prototype.submit.call(keep);  // not htmx's: a page of its own
  }

  // Back from sleep, another tab or the back-forward cache: is the session still on?
  function checkSession() {
    if (!leaving) scheduleSession();
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") checkSession();
  });
  window.addEventListener("focus", checkSession);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      leaving = false;
      checkSession();
    }
  });

  // A form sent after the end (before htmx sees it: window, capturing): kept instead.
  window.addEventListener("submit", function (event) {
    var form = event.target;
    var dialog = sessionDialog();
    var main = document.getElementById("main");
    if (!dialog || !form || form.tagName !== "FORM" || !sessionIsOver()) return;
    var late = dialog.contains(form);  // « Rester connecté(e) » once it is too late
    if (!late && !(main && main.contains(form))) return;  // signing out: let it go
    event.preventDefault();
    event.stopImmediatePropagation();
    sessionOver(late ? null : form);
  }, true);

  // Nor any other request of htmx's (a change that swaps part of the page).
  document.addEventListener("htmx:before:request", function (event) {
    if (leaving || !sessionIsOver()) return;
    var asking = event.target;
    if (sessionDialog() && sessionDialog().contains(asking)) return;
    event.preventDefault();
    sessionOver(asking && asking.closest ? asking.closest("form") : null);
  }, true);

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
