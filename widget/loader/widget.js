/*! Glimpse widget loader. Paste: <script src="https://HOST/widget.js" data-site="SITE" async></script> */
(function (w, d) {
  "use strict";
  var script = d.currentScript;
  if (!script || !script.src) return;
  // The only global: a command function that queues calls until the bundle has loaded.
  // Glimpse('on', name, fn) listens to the `glimpse:<name>` events at once.
  var G = w.Glimpse;
  if (typeof G !== "function" || !G.q) {
    var early = typeof G === "function" && G.q ? G.q : [];
    G = w.Glimpse = function (cmd, arg, fn) {
      if (cmd === "on" && typeof fn === "function") {
        w.addEventListener("glimpse:" + arg, function (e) {
          try {
            fn(e.detail);
          } catch (err) {
            console.warn("Glimpse: an 'on' handler threw", err);
          }
        });
      } else if (G.h) {
        G.h(cmd, arg);
      } else {
        G.q.push([cmd, arg]);
      }
    };
    G.q = early;
  }
  try {
    var base = new URL(script.src, d.baseURI);
    var attr = function (name) {
      return script.getAttribute("data-" + name);
    };
    var config = {
      site: attr("site") || "",
      api: attr("api") || base.origin,
      lang: attr("lang") || "",
      position: attr("position") || "",
      accent: attr("accent") || "",
      theme: attr("theme") || "",
      nonce: attr("nonce") || script.nonce || "",
      datalayer: attr("datalayer"),
      preview: attr("preview"),
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
        G.h = function (cmd, arg) {
          try {
            m.command(String(cmd), arg || {});
          } catch (err) {
            console.warn("Glimpse: command failed", err);
          }
        };
        var queued = G.q.splice(0);
        for (var i = 0; i < queued.length; i++) G.h(queued[i][0], queued[i][1]);
      })
      .catch(function (e) {
        // Never throw into the host page (e.g. a CSP without 'wasm-unsafe-eval').
        console.warn("Glimpse: the widget could not load", e);
      });
  } catch (e) {
    console.warn("Glimpse: the widget could not load", e);
  }
})(window, document);
