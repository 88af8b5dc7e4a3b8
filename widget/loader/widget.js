/*! Glimpse widget loader. Paste: <script src="https://HOST/widget.js" data-site="SITE" async></script> */
(function (w, d) {
  "use strict";
  var script = d.currentScript;
  if (!script || !script.src) return;
  // The only global: a command queue that works before the bundle has loaded.
  var G = w.Glimpse;
  if (typeof G !== "function") {
    G = w.Glimpse = function () {
      G.q.push(arguments);
    };
    G.q = [];
  }
  try {
    var base = new URL(script.src, d.baseURI);
    var config = {
      site: script.getAttribute("data-site") || "",
      api: script.getAttribute("data-api") || base.origin,
    };
    // xtask replaces these with the content-hashed bundle names at build time.
    var glue = new URL("__GLIMPSE_GLUE__", base).href;
    var wasm = new URL("__GLIMPSE_WASM__", base).href;
    // One bundle per page, however many sites embed the widget.
    var loading =
      G.l ||
      (G.l = import(glue).then(function (m) {
        return m.default({ module_or_path: wasm }).then(function () {
          return m;
        });
      }));
    loading
      .then(function (m) {
        m.mount(config);
      })
      .catch(function (e) {
        // Never throw into the host page.
        console.warn("Glimpse: the widget could not load", e);
      });
  } catch (e) {
    console.warn("Glimpse: the widget could not load", e);
  }
})(window, document);
