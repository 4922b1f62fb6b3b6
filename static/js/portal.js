/* Small enhancements on top of htmx. The pages work without this file. */
(function () {
  "use strict";

  // After a login code is sent, keep the "get code" button disabled for the resend interval,
  // showing the seconds left, so that workers do not ask again and hit the rate limit.
  // (afterRequest comes after htmx re-enables the button it disabled during the request.)
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.target) return;
    var sent = event.detail.target.querySelector("[data-resend]");
    var button = document.getElementById("code-btn");
    if (!sent || !button) return;
    var label = button.dataset.label || button.textContent.trim();
    button.dataset.label = label;
    var left = parseInt(sent.getAttribute("data-resend"), 10) || 60;
    button.setAttribute("disabled", "disabled");
    var timer = setInterval(function () {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        button.removeAttribute("disabled");
        button.textContent = label;
      } else {
        button.textContent = label + " (" + left + ")";
      }
    }, 1000);
    button.textContent = label + " (" + left + ")";
    var code = document.getElementById("id_sms_code");
    if (code) code.focus();
  });

  // The ID number box (members.forms.IdNumberInput): the numeric keypad, and an "X" key beside
  // it for the ID numbers that end in X (the keypad has no letters). Without this script the box
  // keeps the full keyboard, which can type the X.
  function idKeyboards() {
    var inputs = document.querySelectorAll("input[data-id-number]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var key = document.querySelector('[data-x-key-for="' + input.id + '"]');
      if (!key) continue;
      input.setAttribute("inputmode", "numeric");
      key.hidden = false;
      key.addEventListener("pointerdown", function (event) { event.preventDefault(); }); // keep the keypad open
      key.addEventListener("click", (function (box) {
        return function () {
          var value = box.value.replace(/[xXＸｘ]$/, "");
          var max = parseInt(box.getAttribute("maxlength"), 10) || 18;
          box.value = value.slice(0, max - 1) + "X";
          box.focus();
          box.dispatchEvent(new Event("input", { bubbles: true }));
        };
      })(input));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", idKeyboards);
  else idKeyboards();

  // Switching elder mode or the language reloads the page: what the worker had typed in the
  // page's forms is kept in sessionStorage just for that reload and put back (then removed at
  // once, whatever page loads next). Hidden fields (the CSRF token) are not kept.
  var KEEP_KEY = "portal:kept-form";

  function pageKey() { return window.location.pathname + window.location.search; }

  function keepForms(event) {
    var switcher = event.target;
    if (!switcher.closest || !switcher.closest(".topbar__tools")) return;
    var fields = [];
    var forms = document.querySelectorAll("main form");
    for (var f = 0; f < forms.length; f++) {
      var elements = forms[f].elements;
      for (var i = 0; i < elements.length; i++) {
        var el = elements[i];
        if (!el.name || /^(hidden|submit|button|reset|password|file)$/.test(el.type)) continue;
        var item = { form: f, name: el.name, type: el.type, value: el.value };
        if (el.type === "checkbox" || el.type === "radio") item.checked = el.checked;
        if (el.tagName === "SELECT" && el.selectedIndex >= 0) item.label = el.options[el.selectedIndex].text;
        fields.push(item);
      }
    }
    if (!fields.length) return;
    try {
      window.sessionStorage.setItem(KEEP_KEY, JSON.stringify({ page: pageKey(), fields: fields, y: window.scrollY }));
    } catch (e) { /* private mode: nothing kept */ }
  }

  function restoreForms() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(KEEP_KEY);
      window.sessionStorage.removeItem(KEEP_KEY);
    } catch (e) { return; }
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    if (!data || data.page !== pageKey()) return;
    var forms = document.querySelectorAll("main form");
    data.fields.forEach(function (item) {
      var form = forms[item.form];
      if (!form) return;
      var elements = form.querySelectorAll('[name="' + item.name.replace(/"/g, '\\"') + '"]');
      for (var i = 0; i < elements.length; i++) {
        var el = elements[i];
        if (item.type === "checkbox" || item.type === "radio") {
          if (el.value === item.value) el.checked = !!item.checked;
        } else if (el.tagName === "SELECT") {
          var found = false;
          for (var o = 0; o < el.options.length; o++) if (el.options[o].value === item.value) found = true;
          if (!found && item.value) el.add(new Option(item.label || item.value, item.value));
          el.value = item.value;
        } else {
          el.value = item.value;
        }
      }
    });
    if (data.y) window.scrollTo(0, data.y);
  }

  document.addEventListener("submit", keepForms, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restoreForms);
  else restoreForms();
})();
