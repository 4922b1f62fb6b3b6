/* The countdown before a voucher campaign's claim window (消费券倒计时).
   The server gives the opening time and its own current time (ISO 8601), so a phone whose clock
   is wrong still counts down to the server's opening: only the time elapsed on the phone counts.
   At zero it enables the buttons marked data-countdown-enable. The claim itself checks the window. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function start(box) {
    var opens = Date.parse(box.getAttribute("data-opens"));
    var serverNow = Date.parse(box.getAttribute("data-now"));
    if (isNaN(opens) || isNaN(serverNow)) return;
    var offset = serverNow - Date.now(); // server time = phone time + offset
    var label = box.getAttribute("data-days-label") || "d";
    var out = box.querySelector(".countdown__time");
    var timer = null;

    function tick() {
      var left = opens - (Date.now() + offset);
      if (left <= 0) {
        if (timer) clearInterval(timer);
        box.hidden = true;
        box.setAttribute("data-done", "1");
        var buttons = document.querySelectorAll("[data-countdown-enable]");
        for (var i = 0; i < buttons.length; i++) buttons[i].removeAttribute("disabled");
        return;
      }
      var s = Math.ceil(left / 1000);
      var days = Math.floor(s / 86400);
      var text = pad(Math.floor((s % 86400) / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
      if (out) out.textContent = (days > 0 ? days + " " + label + " " : "") + text;
    }

    tick();
    timer = setInterval(tick, 250);
  }

  function init() {
    var boxes = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < boxes.length; i++) start(boxes[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
