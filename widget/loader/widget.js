/*! Glimpse widget loader. Paste: <script src="https://HOST/widget.js" data-site="SITE" async></script> */
(function (w, d) {
  "use strict";
  // The only global: a command function that queues calls until the bundle has loaded.
  // Glimpse('on', name, fn) listens to the `glimpse:<name>` events at once. A page may
  // define its own queueing stub first (`Glimpse.q`); its calls are taken over.
  var G = w.Glimpse;
  if (typeof G !== "function" || !G.glimpse) {
    // Plain loops, no Array methods: host pages replace them.
    var early = G && G.q && typeof G.q.length === "number" ? G.q : [];
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
        G.q[G.q.length] = [cmd, arg];
        // A page describing itself (`page`) waits for the idle load; other commands start it.
        if (G.go && cmd !== "page") G.go();
      }
    };
    G.glimpse = 1;
    G.q = [];
    for (var e = 0; e < early.length; e++) {
      // A stub's entries are `arguments` objects or [cmd, arg] pairs.
      if (early[e] && early[e].length) G.q[G.q.length] = [early[e][0], early[e][1]];
    }
  }
  // A link to a story opens it on arrival: `#glimpse=<story-id>` or `?glimpse=<story-id>`
  // (a story id is a slug), and so does following such a `#` link on the page. Once per
  // page, however many tags.
  if (!G.d) {
    G.d = 1;
    var link = function () {
      var m = /[?&#]glimpse=([a-z0-9][a-z0-9-]{0,62})(?=[&#]|$)/.exec(
        w.location.search + w.location.hash
      );
      if (m) G("open", { story: m[1] });
    };
    link();
    w.addEventListener("hashchange", link);
  }
  // Sites already mounted (or mounting) on this page: one widget per site, however many
  // times and wherever the snippet was pasted.
  var mounted = G.s || (G.s = {});

  // The tag that loaded this copy. A tag manager's injected tag normally sets
  // document.currentScript too; where it does not (a wrapper that evaluates the code),
  // every Glimpse tag on the page is considered, and the per-site check keeps it to one.
  var tags = [];
  var current = d.currentScript;
  if (current && current.src) {
    tags[0] = current;
  } else {
    var all = d.getElementsByTagName("script");
    for (var i = 0; i < all.length; i++) {
      var src = all[i].getAttribute("src") || "";
      if (/(^|\/)widget\.js([?#]|$)/.test(src) && all[i].getAttribute("data-site")) {
        tags[tags.length] = all[i];
      }
    }
  }
  for (var t = 0; t < tags.length; t++) start(tags[t]);

  function start(script) {
    try {
      var base = new URL(script.src, d.baseURI);
      var attr = function (name) {
        return script.getAttribute("data-" + name);
      };
      var site = attr("site") || "";
      if (Object.prototype.hasOwnProperty.call(mounted, site)) return;
      mounted[site] = 1;
      var config = {
        site: site,
        api: attr("api") || base.origin,
        lang: attr("lang") || "",
        position: attr("position") || "",
        accent: attr("accent") || "",
        theme: attr("theme") || "",
        nonce: attr("nonce") || script.nonce || "",
        datalayer: attr("datalayer"),
        preview: attr("preview"),
        labels: attr("labels") || "",
      };
      // xtask replaces these with the build's directory (glimpse/<hash>/).
      var glue = new URL("__GLIMPSE_GLUE__", base).href;
      var wasm = new URL("__GLIMPSE_WASM__", base).href;
      // One bundle per page, however many sites embed the widget. It is fetched after the
      // page's `load` event, when the browser is idle, at low priority: never competing
      // with the host's own resources. A command (`Glimpse('open')`) starts it at once.
      var loading =
        G.l ||
        (G.l = new Promise(function (go) {
          var begun = 0;
          var begin = function () {
            if (!begun) go((begun = 1));
          };
          G.go = begin;
          for (var c = 0; c < G.q.length; c++) if (G.q[c][0] !== "page") return begin();
          var idle = function () {
            if (w.requestIdleCallback) w.requestIdleCallback(begin, { timeout: 3000 });
            else setTimeout(begin, 1);
          };
          if (d.readyState === "complete") idle();
          else w.addEventListener("load", idle);
        }).then(function () {
          return import(glue).then(function (m) {
            return m
              .default({ module_or_path: fetch(wasm, { priority: "low", credentials: "omit" }) })
              .then(function () {
                return m;
              });
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
          var queued = G.q;
          G.q = [];
          for (var i = 0; i < queued.length; i++) G.h(queued[i][0], queued[i][1]);
        })
        .catch(function (e) {
          // Never throw into the host page (e.g. a CSP without 'wasm-unsafe-eval').
          console.warn("Glimpse: the widget could not load", e);
        });
    } catch (e) {
      console.warn("Glimpse: the widget could not load", e);
    }
  }
})(window, document);
