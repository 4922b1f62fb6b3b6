/* What a worker sees when an htmx action fails (the voucher claim, a login code, a search…):
   htmx itself only re-enables the button. Every failure gets a message beside the control:
   - no network or no answer (htmx:sendError), or no answer in time (htmx:timeout);
   - an error answer (htmx:responseError): the server's own message when the answer carries one
     (an element with data-htmx-message, as the portal's error pages and the refused-CSRF page do,
     or a fragment's notice), else one by status: server error (5xx), too many requests (429),
     session ended (401), not allowed (403), anything else.
   data-htmx-action="reload" adds a button that reloads the page (a refused CSRF token: the reload
   brings a fresh one); "login" a link to the login page that comes back to this page.
   An ended session usually never gets here: the server answers HX-Redirect to the login page
   (core.htmx.HtmxLoginRedirectMiddleware), which htmx follows.
   The texts come translated from the page (#htmx-messages in base.html). */
(function () {
  "use strict";

  var TIMEOUT_MS = 20000;
  if (window.htmx && !window.htmx.config.timeout) window.htmx.config.timeout = TIMEOUT_MS;

  function text(key) {
    var box = document.getElementById("htmx-messages");
    return (box && box.getAttribute("data-" + key)) || "";
  }

  function hereUrl() {
    return window.location.pathname + window.location.search;
  }

  function loginUrl() {
    return (text("login-url") || "/m/login/") + "?next=" + encodeURIComponent(hereUrl());
  }

  // Where the message goes: inside the target when it is a container (the claim box, the code
  // result), else right after the control (or its form cell).
  function anchor(elt, target) {
    if (target && target !== elt && /^(DIV|SECTION|ARTICLE|MAIN|FORM|ASIDE)$/.test(target.tagName) && document.body.contains(target)) {
      return { parent: target, before: null };
    }
    var after = (elt.closest && elt.closest(".weui-cell")) || elt;
    return { parent: after.parentNode, before: after.nextSibling };
  }

  function clear(elt) {
    var old = elt && elt._htmxError;
    if (old && old.parentNode) old.parentNode.removeChild(old);
    if (elt) elt._htmxError = null;
  }

  function show(detail, message, action) {
    var elt = detail.elt;
    if (!elt || !message) return;
    clear(elt);
    var note = document.createElement("div");
    note.className = "notice notice_error htmx-error";
    note.setAttribute("role", "alert");
    note.setAttribute("data-htmx-error", detail.kind || "");
    var span = document.createElement("span");
    span.textContent = message;
    note.appendChild(span);
    if (action === "reload") {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "weui-btn weui-btn_default htmx-error__action";
      button.textContent = text("reload-label");
      button.addEventListener("click", function () { window.location.reload(); });
      note.appendChild(button);
    } else if (action === "login") {
      var link = document.createElement("a");
      link.className = "weui-btn weui-btn_primary htmx-error__action";
      link.href = loginUrl();
      link.textContent = text("login-label");
      note.appendChild(link);
    }
    var place = anchor(elt, detail.target);
    if (!place.parent) return;
    place.parent.insertBefore(note, place.before);
    elt._htmxError = note;
    var rect = note.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) note.scrollIntoView({ block: "center" });
  }

  // The server's own message in an error answer, if it has one.
  function serverMessage(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    if (type.indexOf("text/html") !== 0 || !xhr.responseText) return null;
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var marked = doc.querySelector("[data-htmx-message]");
    if (marked) return { text: marked.textContent.trim(), action: marked.getAttribute("data-htmx-action") || "" };
    // A fragment meant for the page (not a whole page: a proxy's 502 page says nothing useful).
    if (!doc.querySelector("title")) {
      var notice = doc.querySelector("[role=status], [role=alert], .notice");
      if (notice && notice.textContent.trim()) return { text: notice.textContent.trim(), action: "" };
    }
    return null;
  }

  function byStatus(status) {
    if (status === 401) return { text: text("session"), action: "login" };
    if (status === 403) return { text: text("forbidden"), action: "reload" };
    if (status === 429) return { text: text("busy"), action: "" };
    if (status >= 500) return { text: text("server"), action: "" };
    return { text: text("other"), action: "reload" };
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    clear(event.detail.elt);
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var found = serverMessage(xhr) || byStatus(xhr.status);
    show({ elt: event.detail.elt, target: event.detail.target, kind: "status-" + xhr.status }, found.text, found.action);
  });

  document.addEventListener("htmx:sendError", function (event) {
    show({ elt: event.detail.elt, target: event.detail.target, kind: "network" }, text("network"), "");
  });

  document.addEventListener("htmx:timeout", function (event) {
    show({ elt: event.detail.elt, target: event.detail.target, kind: "timeout" }, text("timeout"), "");
  });
})();
