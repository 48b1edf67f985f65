/* mockbank's quickstream-api.js: the documented browser API of Westpac's QuickStream library.
 *
 *   QuickstreamAPI.init({ publishableApiKey: "..." });
 *   QuickstreamAPI.creditCards.createTrustedFrame({ config: { supplierBusinessCode: "..." } },
 *       function (errors, data) { trustedFrame = data.trustedFrame; });
 *   trustedFrame.submitForm(function (errors, data) {
 *       QuickstreamAPI.creditCards.appendTokenToForm(form, data.singleUseToken.singleUseTokenId);
 *   });
 *
 * The card fields live in an iframe served by mockbank; only the single-use token comes back
 * to this page, by postMessage, and both ends check the other's origin. `errors` passed to a
 * callback is an object shaped like the REST API's error body (status, customerMessage,
 * developerMessage, errors: [{fieldName, fieldValue, messages}]) plus `message`.
 */
(function (window, document) {
  "use strict";
  if (window.QuickstreamAPI) { return; }

  var script = document.currentScript;
  var scriptUrl = new URL(script ? script.src : "", window.location.href);
  // The API root is the folder the script was served from: .../quickstream/rest/v1
  var apiBase = scriptUrl.href.replace(/\/[^\/]*$/, "");
  var apiOrigin = scriptUrl.origin;
  var publishableApiKey = null;
  var frameCounter = 0;
  var LOAD_TIMEOUT_MS = 20000;
  var READY_AFTER_LOAD_MS = 3000;

  function problem(message, fieldName) {
    return {
      status: null,
      message: message,
      customerMessage: message,
      developerMessage: message,
      errors: fieldName ? [{ fieldName: fieldName, fieldValue: null, messages: [message] }] : []
    };
  }

  function call(callback, errors, data) {
    if (typeof callback === "function") {
      window.setTimeout(function () { callback(errors, data); }, 0);
    }
  }

  function applyStyle(element, style) {
    if (!style) { return; }
    Object.keys(style).forEach(function (name) {
      var cssName = name.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
      element.style.setProperty(cssName, String(style[name]));
    });
  }

  function findContainer(options, kind) {
    var wanted = options.container;
    if (wanted && typeof wanted === "string") { return document.getElementById(wanted) || document.querySelector(wanted); }
    if (wanted && wanted.nodeType === 1) { return wanted; }
    return document.querySelector('[data-quickstream-api="' + kind + 'Container"]');
  }

  function TrustedFrame(iframe, frameId) {
    var pending = {};
    var counter = 0;
    var listener = function (event) {
      if (event.origin !== apiOrigin || event.source !== iframe.contentWindow) { return; }
      var message = event.data || {};
      if (message.source !== "mockbank-quickstream" || message.frameId !== frameId) { return; }
      if (message.type === "submitted" && pending[message.requestId]) {
        var done = pending[message.requestId];
        delete pending[message.requestId];
        call(done, message.errors || null, message.errors ? null : message.data);
      }
    };
    window.addEventListener("message", listener);
    this.submitForm = function (callback) {
      if (!iframe.contentWindow) { call(callback, problem("The Trusted Frame has been removed."), null); return; }
      counter += 1;
      var requestId = frameId + "-" + counter;
      pending[requestId] = callback;
      iframe.contentWindow.postMessage(
        { source: "mockbank-quickstream", type: "submit", frameId: frameId, requestId: requestId }, apiOrigin);
    };
    this.teardown = function () {
      window.removeEventListener("message", listener);
      if (iframe.parentNode) { iframe.parentNode.removeChild(iframe); }
    };
    this.getIframe = function () { return iframe; };
  }

  function createTrustedFrame(kind, path, options, callback) {
    options = options || {};
    if (!publishableApiKey) {
      call(callback, problem("Call QuickstreamAPI.init({ publishableApiKey: ... }) first."), null);
      return;
    }
    var config = options.config || {};
    if (!config.supplierBusinessCode) {
      call(callback, problem("config.supplierBusinessCode is required.", "supplierBusinessCode"), null);
      return;
    }
    var container = findContainer(options, kind);
    if (!container) {
      call(callback, problem('No element with data-quickstream-api="' + kind + 'Container" in this page.'), null);
      return;
    }
    frameCounter += 1;
    var frameId = kind + "-" + frameCounter + "-" + Math.random().toString(36).slice(2, 10);
    var iframe = document.createElement("iframe");
    var query = "origin=" + encodeURIComponent(window.location.origin) + "&frameId=" + encodeURIComponent(frameId);
    iframe.src = apiBase + "/trusted-frame/" + path + "?" + query;
    iframe.title = kind === "creditCard" ? "Card details" : "Bank account details";
    iframe.setAttribute("data-quickstream-frame", kind);
    var frameOptions = options.iframe || {};
    iframe.setAttribute("width", frameOptions.width || "100%");
    iframe.setAttribute("height", frameOptions.height || (kind === "creditCard" ? "260" : "180"));
    iframe.setAttribute("scrolling", frameOptions.scrolling || "no");
    iframe.style.border = "none";
    applyStyle(iframe, frameOptions.style);

    var settled = false;
    var readySeen = false;
    var timer = window.setTimeout(function () { finish(problem("The Trusted Frame did not load."), null); }, LOAD_TIMEOUT_MS);
    function finish(errors, data) {
      if (settled) { return; }
      settled = true;
      window.clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      call(callback, errors, data);
    }
    function onMessage(event) {
      if (event.origin !== apiOrigin || event.source !== iframe.contentWindow) { return; }
      var message = event.data || {};
      if (message.source !== "mockbank-quickstream" || message.frameId !== frameId) { return; }
      if (message.type === "ready") {
        readySeen = true;
        iframe.contentWindow.postMessage({
          source: "mockbank-quickstream", type: "init", frameId: frameId,
          publishableApiKey: publishableApiKey, config: config,
          fieldStyles: options.fieldStyles || null, styles: options.styles || null
        }, apiOrigin);
      } else if (message.type === "initialised") {
        if (message.errors) { iframe.parentNode && iframe.parentNode.removeChild(iframe); finish(message.errors, null); }
        else { finish(null, { trustedFrame: new TrustedFrame(iframe, frameId) }); }
      }
    }
    window.addEventListener("message", onMessage);
    // A frame refused by its frame-ancestors policy still fires "load" but never says "ready".
    iframe.addEventListener("load", function () {
      window.setTimeout(function () {
        if (readySeen) { return; }
        finish(problem("The Trusted Frame could not be shown in this page: is this page's origin ("
          + window.location.origin + ") in mockbank's restApi.trustedFrameOrigins?"), null);
      }, READY_AFTER_LOAD_MS);
    });
    container.appendChild(iframe);
  }

  function appendTokenToForm(form, singleUseTokenId) {
    if (!form || !singleUseTokenId) { return; }
    var input = form.querySelector('input[name="singleUseTokenId"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "singleUseTokenId";
      form.appendChild(input);
    }
    input.value = singleUseTokenId;
  }

  window.QuickstreamAPI = {
    init: function (options) {
      if (!options || typeof options.publishableApiKey !== "string" || !options.publishableApiKey) {
        throw new Error("QuickstreamAPI.init needs { publishableApiKey: '...' }");
      }
      publishableApiKey = options.publishableApiKey;
    },
    isInitialised: function () { return publishableApiKey !== null; },
    creditCards: {
      createTrustedFrame: function (options, callback) { createTrustedFrame("creditCard", "credit-card", options, callback); },
      appendTokenToForm: appendTokenToForm
    },
    bankAccounts: {
      createTrustedFrame: function (options, callback) { createTrustedFrame("bankAccount", "bank-account", options, callback); },
      appendTokenToForm: appendTokenToForm
    }
  };
}(window, document));
