/* The merchant page's camera (核销扫码): qr-scanner (npm, served from /static/vendor/qr-scanner/)
   reads a voucher's QR code and its code goes into the codes box. The QR code holds the merchant
   page's address with ?code=…; this script only picks that parameter out (or keeps the text as
   it was read): the server reads every code with one function (vouchers.services.redemption
   .code_from_input). window.portalScanner.accept(text) is what a decoded QR code goes to. */
(function () {
  "use strict";
  var field = document.getElementById("id_codes");
  var box = document.getElementById("scanner");
  var startBtn = document.getElementById("scan-start");
  var stopBtn = document.getElementById("scan-stop");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  if (!field || !box || !startBtn) return;
  var scanner = null;

  function say(text, kind) {
    status.textContent = text;
    status.className = "notice" + (kind ? " notice_" + kind : "");
    status.hidden = !text;
  }

  function codeOf(text) {
    text = String(text || "").trim();
    try {
      var code = new URL(text).searchParams.get("code");
      if (code) return code.trim();
    } catch (e) { /* not an address: the text itself */ }
    return text;
  }

  function accept(text) {
    var code = codeOf(text);
    if (!code) return false;
    var lines = field.value.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean);
    if (lines.indexOf(code) === -1) lines.push(code);
    field.value = lines.join("\n");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    say(box.dataset.msgRead.replace("{code}", code), "");
    if (navigator.vibrate) navigator.vibrate(80);
    var amount = document.getElementById("id_order_amount");
    if (amount && !amount.value) amount.focus();
    return true;
  }

  function stop() {
    if (scanner) { scanner.stop(); scanner.destroy(); scanner = null; }
    box.hidden = true;
    startBtn.hidden = false;
  }

  function unavailable() {
    stop();
    say(box.dataset.msgNoCamera, "warning");
  }

  function start() {
    if (typeof window.QrScanner === "undefined" || !window.isSecureContext || !navigator.mediaDevices) {
      unavailable();
      return;
    }
    box.hidden = false;
    startBtn.hidden = true;
    say(box.dataset.msgAim, "");
    scanner = new window.QrScanner(video, function (result) {
      if (accept(result.data)) stop();
    }, { returnDetailedScanResult: true, preferredCamera: "environment", highlightScanRegion: true, maxScansPerSecond: 8 });
    scanner.start().catch(unavailable);
  }

  startBtn.addEventListener("click", start);
  if (stopBtn) stopBtn.addEventListener("click", function () { stop(); say("", ""); });
  window.portalScanner = { accept: accept, codeOf: codeOf, loaded: typeof window.QrScanner !== "undefined" };
  startBtn.disabled = false;
})();
