/* Inside mockbank's Trusted Frame: talk only to the parent origin mockbank accepted, make the
 * single-use token with the publishable key (same origin: no CORS), hand back only the token. */
(function (window, document) {
  "use strict";
  var body = document.body;
  var parentOrigin = body.getAttribute("data-parent-origin");
  var frameId = body.getAttribute("data-frame-id");
  var kind = body.getAttribute("data-kind");
  var tokenUrl = body.getAttribute("data-token-url");
  var businessUrl = body.getAttribute("data-business-url");
  var form = document.getElementById("fields");
  var key = null;
  var config = {};
  var busy = false;
  if (!parentOrigin || window.parent === window || !form) { return; }

  var FIELDS = kind === "creditCard"
    ? ["cardholderName", "cardNumber", "expiryDateMonth", "expiryDateYear", "cvn"]
    : ["accountName", "bsb", "accountNumber"];

  function send(message) {
    message.source = "mockbank-quickstream";
    message.frameId = frameId;
    window.parent.postMessage(message, parentOrigin);
  }

  function problem(message) {
    return { status: null, message: message, customerMessage: message, developerMessage: message, errors: [] };
  }

  function authorization() { return "Basic " + window.btoa(key + ":"); }

  function styleFields(styles) {
    if (!styles || typeof styles !== "object") { return; }
    var base = styles.base || styles;
    FIELDS.forEach(function (name) {
      var element = document.getElementById(name);
      Object.keys(base).forEach(function (prop) {
        var value = base[prop];
        if (typeof value !== "string" && typeof value !== "number") { return; }
        element.style.setProperty(prop.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); }), String(value));
      });
    });
  }

  function showErrors(errors) {
    FIELDS.concat(["form"]).forEach(function (name) {
      document.getElementById("error-" + name).textContent = "";
      var field = document.getElementById(name);
      if (field) { field.classList.remove("invalid"); field.removeAttribute("aria-invalid"); }
    });
    var list = (errors && errors.errors) || [];
    var first = null;
    list.forEach(function (item) {
      var slot = document.getElementById("error-" + item.fieldName) || document.getElementById("error-form");
      slot.textContent = (item.messages || []).join(" ");
      var field = document.getElementById(item.fieldName);
      if (field) { field.classList.add("invalid"); field.setAttribute("aria-invalid", "true"); first = first || field; }
    });
    if (!list.length && errors) { document.getElementById("error-form").textContent = errors.customerMessage || errors.message || ""; }
    if (first) { first.focus(); }
  }

  function asErrors(response, body) {
    var errors = body && typeof body === "object" ? body : problem("QuickStream answered " + response.status + ".");
    errors.message = errors.customerMessage || errors.developerMessage || "Request failed";
    return errors;
  }

  function initialise(message) {
    key = typeof message.publishableApiKey === "string" ? message.publishableApiKey : null;
    config = message.config || {};
    styleFields(message.fieldStyles || message.styles);
    if (!key) { send({ type: "initialised", errors: problem("publishableApiKey is missing.") }); return; }
    // Checks the key and the business once, so a typo shows at createTrustedFrame time.
    window.fetch(businessUrl + encodeURIComponent(config.supplierBusinessCode) + "/accepted-cards", {
      headers: { Authorization: authorization(), Accept: "application/json" }, credentials: "omit"
    }).then(function (response) {
      return response.json().then(function (body) {
        send(response.ok ? { type: "initialised" } : { type: "initialised", errors: asErrors(response, body) });
      });
    }).catch(function () { send({ type: "initialised", errors: problem("QuickStream could not be reached.") }); });
  }

  function submit(message) {
    if (busy) { return; }
    busy = true;
    var request = { supplierBusinessCode: config.supplierBusinessCode, accountType: kind === "creditCard" ? "CREDIT_CARD" : "DIRECT_DEBIT" };
    FIELDS.forEach(function (name) { request[name] = document.getElementById(name).value; });
    window.fetch(tokenUrl, {
      method: "POST", credentials: "omit",
      headers: { Authorization: authorization(), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(request)
    }).then(function (response) {
      return response.json().then(function (body) {
        busy = false;
        if (response.status === 201) {
          showErrors(null);
          send({ type: "submitted", requestId: message.requestId, data: { singleUseToken: body } });
        } else {
          var errors = asErrors(response, body);
          showErrors(errors);
          send({ type: "submitted", requestId: message.requestId, errors: errors });
        }
      });
    }).catch(function () {
      busy = false;
      var errors = problem("QuickStream could not be reached. Try again.");
      showErrors(errors);
      send({ type: "submitted", requestId: message.requestId, errors: errors });
    });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== parentOrigin || event.source !== window.parent) { return; }
    var message = event.data || {};
    if (message.source !== "mockbank-quickstream" || message.frameId !== frameId) { return; }
    if (message.type === "init") { initialise(message); }
    else if (message.type === "submit" && key) { submit(message); }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  send({ type: "ready" });
}(window, document));
