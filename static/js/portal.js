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
})();
