// The QuickWeb payment page: card scheme, surcharge and total as the payer types, one form
// shown at a time, and no double submission. Served as a file: the page's Content-Security-Policy
// allows no inline script. The server's values come in the form's data- attributes.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) return;
  var rates = JSON.parse(form.dataset.surcharges || "{}");
  var principalText = form.dataset.principal || "";
  var bankFirst = form.dataset.bankFirst === "true";
  function scheme(d) {
    if (/^4/.test(d)) return "VISA";
    var two = +d.slice(0, 2), four = +d.slice(0, 4);
    if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return "MASTERCARD";
    if (two === 34 || two === 37) return "AMEX";
    if (two === 36 || two === 38 || two === 39 || (+d.slice(0, 3) >= 300 && +d.slice(0, 3) <= 305)) return "DINERS";
    if (four >= 3528 && four <= 3589) return "JCB";
    if (two === 62) return "UPOP";
    return "";
  }
  function cents(text) {
    var m = /^\s*\$?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
    return m ? (+m[1]) * 100 + +((m[2] || "0") + "0").slice(0, 2) : null;
  }
  function money(c) { return (Math.floor(c / 100)) + "." + ("0" + (c % 100)).slice(-2); }
  function update() {
    var amountInput = document.getElementById("amount");
    var principal = cents(principalText || (amountInput ? amountInput.value : ""));
    var bank = document.getElementById("method-bank");
    var onBank = bank ? bank.checked : bankFirst;
    var number = document.getElementById("cardNumber");
    var s = number && !onBank ? scheme(number.value.replace(/[\s-]/g, "")) : "";
    var label = document.getElementById("card-scheme");
    if (label) label.textContent = s;
    var surchargeEl = document.getElementById("surcharge"), totalEl = document.getElementById("total");
    if (!surchargeEl || !totalEl) return;  // a registration shows no amounts
    var surcharge = 0;
    if (onBank) { surchargeEl.textContent = "None for bank account payments"; }
    else if (!s || !(s in rates)) { surchargeEl.textContent = s ? s + " is not accepted" : "Shown once your card type is known"; }
    else {
      surcharge = principal === null ? 0 : Math.floor((principal * Math.round(rates[s] * 100) + 5000) / 10000);
      surchargeEl.textContent = s + " " + rates[s].toFixed(2) + "%" + (principal === null ? "" : " = " + money(surcharge));
    }
    totalEl.textContent = principal === null ? "\u2014" : money(principal + surcharge);
  }
  function toggle() {
    var bank = document.getElementById("method-bank");
    if (!bank) return;
    document.getElementById("card-fields").hidden = bank.checked;
    document.getElementById("bank-fields").hidden = !bank.checked;
    update();
  }
  document.querySelectorAll("input[name=paymentMethod]").forEach(function (r) { r.addEventListener("change", toggle); });
  // The server shows both forms (a browser without JavaScript picks one with the radio);
  // the script shows only the chosen one.
  toggle();
  ["cardNumber", "amount"].forEach(function (id) { var el = document.getElementById(id); if (el) el.addEventListener("input", update); });
  form.addEventListener("submit", function () { document.getElementById("pay-button").disabled = true; });
  // A page restored from the back/forward cache must not keep its button disabled.
  window.addEventListener("pageshow", function () { document.getElementById("pay-button").disabled = false; });
  // A page answering a POST (with errors) gets its own address as its history entry, so that
  // Back from the receipt reloads the payment page instead of asking to resubmit the form.
  if (form.dataset.canonicalUrl && window.history && history.replaceState) {
    history.replaceState(null, "", form.dataset.canonicalUrl);
  }
  update();
})();
