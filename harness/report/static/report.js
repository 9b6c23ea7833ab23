/* sigharness report: the matrix (virtualized: only the rows in view are in the DOM), filters kept in the
   URL fragment, the drill-down built on click, CSV / JSON export of the current view.
   Every text from the results goes through textContent or esc(); nothing from the data is ever code. */
(function () {
  "use strict";
  if (window.performance && performance.mark) performance.mark("sigharness-start");

  var D = JSON.parse(document.getElementById("sh-data").textContent);
  var X = null; // drill-down details: parsed on first use
  function details() {
    if (X === null) X = JSON.parse(document.getElementById("sh-detail").textContent);
    return X;
  }

  var STATUS_OF = Object.assign({}, D.letters); // letter -> verdict, from harness/verdicts.py
  var SYM = D.symbols;
  // What a fail is (harness/verdicts.py FAIL_KINDS): a fail cell's letter names its kind.
  var KIND_OF = {}, KIND = {}, LETTER_SYM = {};
  Object.keys(STATUS_OF).forEach(function (L) { LETTER_SYM[L] = SYM[STATUS_OF[L]]; });
  D.fail_kinds.forEach(function (k) { STATUS_OF[k.letter] = "fail"; KIND_OF[k.letter] = k.name; KIND[k.name] = k; LETTER_SYM[k.letter] = k.symbol; });
  var KIND_NAMES = D.fail_kinds.map(function (k) { return k.name; });
  var LETTER_RANK = {};  // best first, a fail's kinds in their declared order (harness/verdicts.py)
  Object.keys(STATUS_OF).forEach(function (L) {
    var k = KIND_OF[L];
    LETTER_RANK[L] = D.order.indexOf(STATUS_OF[L]) * 10 + (k ? KIND_NAMES.indexOf(k) : 0);
  });
  var GOOD = {}, BAD = {};
  Object.keys(STATUS_OF).forEach(function (L) { var cl = D.classes[STATUS_OF[L]]; if (cl === "good") GOOD[L] = 1; else if (cl === "bad") BAD[L] = 1; });
  var A = D.adapters, C = D.cases, ROWS = D.rows;
  var STAGE_TITLE = { canonical_request: "canonical request", string_to_sign: "string to sign", signature: "signature", signed_request: "signed request",
    policy_document: "POST policy document", form_fields: "form fields", token: "token", form: "form" };
  var RH = 28; // row height, px (matches --rh)

  // ------------------------------------------------------------------ helpers
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (ch) { return ESC[ch]; }); }
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      for (var k in props) {
        var v = props[k];
        if (v == null || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = v;
        else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(el, k); }); return; }
    el.append(kid instanceof Node ? kid : String(kid));
  }
  function chip(status, extra) {
    return h("span", { class: "chip st-" + status }, h("span", { "aria-hidden": "true" }, SYM[status] || "?"), " " + (status === "missing" ? "not run" : status) + (extra || ""));
  }
  function letterChip(L) {
    var k = KIND_OF[L];
    if (!k) return chip(STATUS_OF[L]);
    return h("span", { class: "chip st-fail k-" + k, title: KIND[k].meaning }, h("span", { "aria-hidden": "true" }, KIND[k].symbol), " fail: " + KIND[k].label);
  }
  function uniq(list) { var seen = new Set(); return list.filter(function (x) { if (seen.has(x)) return false; seen.add(x); return true; }); }
  function S(i) { return i == null || i < 0 ? null : details().S[i]; }
  // One drill-down cell, from its positional form (harness/report/model.py) to named fields.
  function cellDetail(r, ai) {
    var X = details(), t = X.cells[r][ai];
    if (!t) return {};
    var c = X.B[t[0]];  // the core the cell shares with its like: [stage, expected_source, stages, verification, signed, opinions, decided_by]
    var d = { stage: c[0] == null ? null : X.stages[c[0]], es: c[1], ms: t[1], ns: t[2], h: t[3], op: c[5] || null, dec: c[6] };
    d.st = (c[2] || []).map(function (s) { return [X.stages[s[0]]].concat(s.slice(1)); });
    var v = c[3], g = c[4];
    if (v) d.ver = { valid: v[0], reason: v[1], rules: v[2], cr: v[3], changes: v[4] || [], exp: v[5] === undefined ? -1 : v[5] };
    if (g) {
      var hs = [];
      for (var i = 0; i + 1 < g[2].length; i += 2) hs.push([g[2][i], g[2][i + 1]]);
      d.sig = { m: g[0], u: g[1], h: hs, b: g[3] };
    }
    return d;
  }
  function pct(x) { return x == null ? "—" : (x >= 0.995 && x < 1 ? "99%" : Math.round(x * 100) + "%"); }
  function shq(s) { s = String(s); return /^[A-Za-z0-9_\/.@%+=:,-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }
  function byId(id) { return document.getElementById(id); }

  var LANGS = uniq(A.map(function (a) { return a.lang; }));
  var MODES = uniq(ROWS.map(function (r) { return r[1]; }));

  // ------------------------------------------------------------------ state <-> URL fragment
  // Filter dimensions: AND across dimensions, OR within one. Each is a URL fragment key (docs/report.md).
  // Row dimensions read a check, column dimensions choose the adapters shown.
  function sorted(list) { return uniq(list.filter(function (x) { return x != null && x !== ""; })).sort(); }
  var CLIENTS = sorted(A.map(function (a) { return a.client || "none"; }));
  var ROW_DIMS = {
    sv: { name: "service", of: function (row, c) { return c.svc || ""; }, values: sorted(C.map(function (c) { return c.svc; })) },
    al: { name: "algorithm", of: function (row, c) { return c.algo || ""; }, values: sorted(C.map(function (c) { return c.algo; })) },
    m: { name: "mode", of: function (row) { return row[1]; }, values: MODES },
    tk: { name: "token", of: function (row, c) { return c.tok ? "signed" : "none"; }, values: ["signed", "none"] },
    py: { name: "payload", of: function (row, c) { return c.pay; }, values: sorted(C.map(function (c) { return c.pay; })) },
    sf: { name: "surface", of: function (row, c) { return D.surfaces[c.surf]; }, values: D.surfaces },
    tp: { name: "topic", of: function (row, c) { return D.topics[c.topic]; }, values: D.topics },
    t: { name: "tag", many: true, of: function (row, c) { return c.tags.map(function (t) { return D.tags[t]; }); }, values: D.tags },
  };
  var COL_DIMS = {
    a: { name: "adapter", of: function (a) { return [a.k, a.base]; }, values: A.map(function (a) { return a.k; }) },
    l: { name: "language", of: function (a) { return [a.lang]; }, values: LANGS },
    cl: { name: "client", of: function (a) { return [a.client || "none"]; }, values: CLIENTS },
  };
  var VERDICT_VALUES = D.statuses.concat(KIND_NAMES, ["missing"]);
  var state = { s: new Set(), g: new Set(), q: "", d: false, vd: false, compact: false, open: null };
  Object.keys(ROW_DIMS).concat(Object.keys(COL_DIMS)).forEach(function (k) { state[k] = new Set(); });
  var KEYS = { s: VERDICT_VALUES, g: ["all", "some", "none", "na"] };
  Object.keys(ROW_DIMS).forEach(function (k) { KEYS[k] = ROW_DIMS[k].values; });
  Object.keys(COL_DIMS).forEach(function (k) { KEYS[k] = COL_DIMS[k].values; });
  var SET_KEYS = Object.keys(KEYS);
  var VERSIONED = (function () {  // adapter names that have several columns (library versions): "differs across versions"
    var n = {};
    A.forEach(function (a) { n[a.base] = (n[a.base] || 0) + 1; });
    return Object.keys(n).filter(function (b) { return n[b] > 1; });
  })();

  // The query language of the search box (documented in the page and in docs/report.md):
  //   key:value[,value]  one dimension (OR within the commas); terms AND together
  //   ADAPTER:verdict    rows where that adapter (a column key, or its name for every version) has that verdict
  //   -key:value         leaves those out;  any other word is free text (case id, title, note, header, reason)
  var ALIASES = { service: "sv", svc: "sv", algorithm: "al", algo: "al", mode: "m", token: "tk", payload: "py", surface: "sf",
    topic: "tp", tag: "t", verdict: "s", is: "s", adapter: "a", lang: "l", language: "l", client: "cl", passed: "g", versions: "vd" };
  var VERDICT_WORDS = { good: D.statuses.filter(function (s) { return D.classes[s] === "good"; }),
    bad: D.statuses.filter(function (s) { return D.classes[s] === "bad"; }) };
  function verdictSet(values) {
    var out = new Set();
    values.forEach(function (v) { (VERDICT_WORDS[v] || [v]).forEach(function (x) { if (VERDICT_VALUES.indexOf(x) >= 0) out.add(x); }); });
    return out;
  }
  function parseQuery(text) {
    var q = { dims: [], cells: [], words: [], problems: [] };
    (text.match(/"[^"]*"|\S+/g) || []).forEach(function (raw) {
      var neg = raw[0] === "-" && raw.indexOf(":") > 1, term = neg ? raw.slice(1) : raw;
      var colon = term.indexOf(":");
      if (colon <= 0 || term[0] === '"') { q.words.push(term.replace(/^"|"$/g, "").toLowerCase()); return; }
      var key = term.slice(0, colon).toLowerCase(), values = term.slice(colon + 1).split(",").filter(Boolean).map(function (v) { return v.toLowerCase(); });
      var dim = ALIASES[key] || (KEYS[key] ? key : null);
      if (dim === "vd") { q.vd = true; return; }
      if (dim) {
        var allowed = {};
        KEYS[dim].forEach(function (v) { allowed[String(v).toLowerCase()] = v; });
        var set = new Set();
        if (dim === "s") set = verdictSet(values);
        else values.forEach(function (v) { if (allowed[v] != null) set.add(allowed[v]); });
        if (dim === "a") values.forEach(function (v) { A.forEach(function (a) { if (a.base.toLowerCase() === v) set.add(a.k); }); });
        if (!set.size) q.problems.push(raw + ": no " + (dim === "s" ? "verdict" : (ROW_DIMS[dim] || COL_DIMS[dim] || { name: dim }).name) + " of that name");
        q.dims.push({ k: dim, set: set, neg: neg });
        return;
      }
      var cols = [];
      A.forEach(function (a, i) { if (a.k.toLowerCase() === key || a.base.toLowerCase() === key) cols.push(i); });
      if (cols.length) { q.cells.push({ cols: cols, set: verdictSet(values), neg: neg }); return; }
      q.problems.push(raw + ": unknown key " + key);
    });
    return q;
  }

  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(KEYS).forEach(function (k) {
      var allowed = new Set(KEYS[k]);
      state[k] = new Set(p.getAll(k).filter(function (v) { return allowed.has(v); }));
    });
    state.q = p.get("q") || "";
    state.d = p.get("d") === "1";
    state.vd = p.get("vd") === "1";
    state.compact = p.get("hd") === "1";
    var oc = p.get("oc"), om = p.get("om"), oa = p.get("oa");
    state.open = oc ? { c: oc, m: om || "", a: oa || "" } : null;
  }
  function hashString() {
    var p = new URLSearchParams();
    SET_KEYS.forEach(function (k) { state[k].forEach(function (v) { p.append(k, v); }); });
    if (state.q) p.set("q", state.q);
    if (state.d) p.set("d", "1");
    if (state.vd) p.set("vd", "1");
    if (state.compact) p.set("hd", "1");
    if (state.open) { p.set("oc", state.open.c); p.set("om", state.open.m); if (state.open.a) p.set("oa", state.open.a); }
    return p.toString();
  }
  var writing = false;
  function writeHash() {
    var s = hashString();
    if (location.hash.replace(/^#/, "") === s) return;
    writing = true;
    try { history.replaceState(null, "", s ? "#" + s : location.pathname + location.search); }
    catch (e) { location.replace("#" + s); }
    writing = false;
  }

  // ------------------------------------------------------------------ the view: which rows and columns
  function divText(code) { return (D.divergences || {})[code] || ["", ""]; }  // [title, meaning] from the catalogue
  var view = { cols: [], items: [], rows: 0, cases: 0 };
  var hay = null;
  function haystack(r) {
    if (hay === null) {
      hay = ROWS.map(function (row, ri) {
        var c = C[row[0]];
        var parts = [c.id, c.title, c.note, D.topics[c.topic], row[1], c.algo, c.svc, c.region, c.div ? c.div + " " + divText(c.div)[0] : "", (c.open || []).join(" "), c.err || "", c.req.u || "", c.req.m || ""];
        c.tags.forEach(function (t) { parts.push(D.tags[t]); });
        (c.req.h || []).forEach(function (hv) { parts.push(hv[0] + ": " + hv[1]); });
        D.rr[ri].forEach(function (x) { if (x) parts.push(D.reasons[x]); });
        return parts.join("\n").toLowerCase();
      });
    }
    return hay[r];
  }
  var parsed = { text: null, q: null };
  function query() {
    if (parsed.text !== state.q) { parsed.text = state.q; parsed.q = parseQuery(state.q); }
    return parsed.q;
  }
  function computeView() {
    var q = query();
    var colTests = [], rowTests = [];
    Object.keys(COL_DIMS).forEach(function (k) { if (state[k].size) colTests.push({ k: k, set: state[k], neg: false }); });
    Object.keys(ROW_DIMS).forEach(function (k) { if (state[k].size) rowTests.push({ k: k, set: state[k], neg: false }); });
    var verdictTests = state.s.size ? [{ set: state.s, neg: false }] : [];
    var agreeTests = state.g.size ? [{ set: state.g, neg: false }] : [];
    q.dims.forEach(function (t) {
      if (COL_DIMS[t.k]) colTests.push(t);
      else if (ROW_DIMS[t.k]) rowTests.push(t);
      else if (t.k === "s") verdictTests.push(t);
      else if (t.k === "g") agreeTests.push(t);
    });
    var cols = [];
    A.forEach(function (a, i) {
      for (var n = 0; n < colTests.length; n++) {
        var t = colTests[n], hit = COL_DIMS[t.k].of(a).some(function (v) { return t.set.has(v); });
        if (hit === t.neg) return;
      }
      cols.push(i);
    });
    var terms = q.words;
    var differs = state.vd || q.vd;
    var groups = null;
    if (differs) {  // shown columns of one adapter name (its versions), to compare their verdicts
      var by = {};
      cols.forEach(function (i) { (by[A[i].base] = by[A[i].base] || []).push(i); });
      groups = Object.keys(by).map(function (b) { return by[b]; }).filter(function (g) { return g.length > 1; });
    }
    var primary = verdictTests.length ? verdictTests[0] : null;  // dims the cells that do not match it
    var items = [], lastTopic = -1, group = null, cases = new Set(), groupCases = null;
    rows: for (var r = 0; r < ROWS.length; r++) {
      var row = ROWS[r], c = C[row[0]], letters = row[2];
      for (var n = 0; n < rowTests.length; n++) {
        var t = rowTests[n], dim = ROW_DIMS[t.k], v = dim.of(row, c);
        var hit = dim.many ? v.some(function (x) { return t.set.has(x); }) : t.set.has(v);
        if (hit === t.neg) continue rows;
      }
      for (n = 0; n < q.cells.length; n++) {
        var ct = q.cells[n], chit = false;
        for (var k = 0; k < ct.cols.length && !chit; k++) { var L0 = letters[ct.cols[k]]; chit = ct.set.has(STATUS_OF[L0]) || ct.set.has(KIND_OF[L0]); }
        if (chit === ct.neg) continue rows;
      }
      if (terms.length) {
        var text = haystack(r);
        for (n = 0; n < terms.length; n++) if (text.indexOf(terms[n]) < 0) continue rows;
      }
      var passed = 0, ran = 0, kinds = new Set();
      for (n = 0; n < verdictTests.length; n++) {
        var vt = verdictTests[n], any = false;
        for (var j = 0; j < cols.length && !any; j++) { var L1 = letters[cols[j]]; any = vt.set.has(STATUS_OF[L1]) || vt.set.has(KIND_OF[L1]); }
        if (any === vt.neg) continue rows;
      }
      for (j = 0; j < cols.length; j++) {
        var L = letters[cols[j]];
        if (L !== "." && L !== "u") { ran++; if (GOOD[L]) passed++; kinds.add(STATUS_OF[L]); }
      }
      if (state.d && kinds.size < 2) continue;
      if (groups) {
        var diff = groups.some(function (g) {
          var seen = null;
          return g.some(function (i) { var x = letters[i]; if (x === ".") return false; if (seen === null) { seen = x; return false; } return x !== seen; });
        });
        if (!diff) continue;
      }
      var ag = ran === 0 ? "na" : passed === ran ? "all" : passed === 0 ? "none" : "some";
      for (n = 0; n < agreeTests.length; n++) if (agreeTests[n].set.has(ag) === agreeTests[n].neg) continue rows;
      if (c.topic !== lastTopic) {
        group = { g: c.topic, rows: 0, cases: 0 };
        groupCases = new Set();
        items.push(group);
        lastTopic = c.topic;
      }
      group.rows++;
      if (!groupCases.has(row[0])) { groupCases.add(row[0]); group.cases++; }
      cases.add(row[0]);
      items.push({ r: r, ag: ag, passed: passed, ran: ran });
    }
    view.cols = cols;
    view.items = items;
    view.rows = items.length - items.filter(function (it) { return it.g != null; }).length;
    view.cases = cases.size;
    view.primary = primary && !primary.neg ? primary.set : null;
    view.problems = q.problems;
  }

  // ------------------------------------------------------------------ the matrix
  var grid = byId("grid"), ghead = byId("ghead"), gbody = byId("gbody");
  var active = { i: -1, col: 0 }; // item index (a row item) and column (0 = case, 1.. = view.cols[col-1])
  var lastRange = "";

  function leftWidth() {
    var cs = getComputedStyle(document.documentElement);
    return ["--case-w", "--mode-w", "--agree-w"].reduce(function (s, v) { return s + parseFloat(cs.getPropertyValue(v)); }, 0);
  }
  function cellW() { return parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--cw")) || 46; }

  function renderHead() {
    var cols = view.cols, html = [];
    var groups = [];
    cols.forEach(function (i) {
      var lang = A[i].lang;
      if (!groups.length || groups[groups.length - 1].lang !== lang) groups.push({ lang: lang, n: 0 });
      groups[groups.length - 1].n++;
    });
    html.push('<div class="hr" role="row"><div class="hl cols"><span class="lc lc-case" role="columnheader">case</span><span class="lc lc-mode" role="columnheader">mode</span>' +
      '<span class="lc lc-agree" role="columnheader" title="how many of the shown adapters that ran the check pass it">passed by</span></div>');
    groups.forEach(function (g) {
      html.push('<div class="hc lang" role="columnheader" aria-colspan="' + g.n + '" style="width:calc(var(--cw) * ' + g.n + ')" title="' + esc(g.lang) + '">' + esc(g.lang) + "</div>");
    });
    html.push("</div>");
    function row(label, cls, fn, detail) {
      var left = esc(label);
      if (label === "adapter") {
        left = '<span class="mini-legend" aria-hidden="true">' + D.statuses.concat(["missing"]).map(function (s) {
          return '<span class="st-' + s + '">' + SYM[s] + "</span> " + (s === "missing" ? "not run" : s);
        }).join(" ") + "</span>" + left;
      }
      html.push('<div class="hr' + (detail ? " detail" : "") + '" role="row"><div class="hl" role="columnheader">' + left + "</div>");
      cols.forEach(function (i) { html.push(fn(A[i], i)); });
      html.push("</div>");
    }
    row("adapter", "", function (a) {
      var at = a.k.lastIndexOf("@"), label = at > 0 && a.k.slice(0, at) === a.name ? '<span>' + esc(a.name) + '</span><span class="at">@' + esc(a.k.slice(at + 1)) + "</span>" : "<span>" + esc(a.k) + "</span>";
      return '<div class="hc vert name' + (a.avail ? "" : " unavail") + '" role="columnheader" title="' + esc(a.k + (a.avail ? "" : " — unavailable: " + a.why)) + '">' + label + "</div>";
    });
    row("library · version · runtime", "", function (a) {
      return '<div class="hc vert det" role="columnheader" title="' + esc(a.lib + " " + a.ver + " — " + (a.rt || "runtime unknown")) + '"><span class="lib">' + esc(a.lib) +
        '</span><span class="ver">' + esc(a.ver) + '</span><span class="rt">' + esc(a.rts) + "</span></div>";
    }, true);
    row("score", "", function (a) {
      var t = a.tally;
      return '<div class="hc sc" role="columnheader" title="' + esc(a.k + ": score " + pct(t.score) + " — pass " + t.pass + ", variant " + t.variant + ", fail " + t.fail + ", error " + t.error + ", unsupported " + t.unsupported) + '">' + esc(a.avail ? pct(t.score) : "n/a") + "</div>";
    });
    var text = html.join("");
    if (text !== lastHead) { ghead.innerHTML = text; lastHead = text; headH = null; }  // unchanged columns: no new layout
    if (grid.classList.contains("compact") !== state.compact) { grid.classList.toggle("compact", state.compact); headH = null; }
    grid.setAttribute("aria-colcount", String(cols.length + 3));
    grid.setAttribute("aria-rowcount", String(view.items.length));
  }

  var lastHead = "", headH = null;
  function headHeight() { if (headH === null) headH = ghead.offsetHeight; return headH; }
  var metrics = null;  // the left columns' width and a cell's, read from the CSS once per update

  function renderBody(force) {
    var items = view.items, cols = view.cols;
    gbody.style.height = items.length * RH + "px";
    var top = grid.scrollTop, visible = Math.max(grid.clientHeight - headHeight(), RH);
    var first = Math.max(0, Math.floor(top / RH) - 8);
    var last = Math.min(items.length, Math.ceil((top + visible) / RH) + 8);
    // and only the columns in view (a merged report has ~150): a spacer stands for the ones to the left
    if (!metrics) metrics = { lw: leftWidth(), cw: cellW() };
    var cw = metrics.cw, left = grid.scrollLeft;
    var c0 = Math.max(0, Math.floor(left / cw) - 4);
    var c1 = Math.min(cols.length, Math.ceil((left + grid.clientWidth - metrics.lw) / cw) + 4);
    var key = first + ":" + last + ":" + c0 + ":" + c1 + ":" + active.i + ":" + active.col;
    if (!force && key === lastRange) return;
    lastRange = key;
    var html = [], openKey = state.open ? state.open.c + "\u0000" + state.open.m + "\u0000" + state.open.a : "";
    for (var i = first; i < last; i++) {
      var it = items[i];
      var y = i * RH;
      if (it.g != null) {
        var gs = i + 1 < items.length && items[i + 1].r != null ? D.surfaces[C[ROWS[items[i + 1].r][0]].surf] : "";
        html.push('<div class="g" role="row" aria-rowindex="' + (i + 1) + '" style="top:' + y + 'px"><div class="gl" role="rowheader">' +
          (gs && gs !== D.surfaces[0] ? '<span class="surf">' + esc(gs) + "</span> " : "") + esc(D.topics[it.g]) +
          ' <span class="n">' + it.cases + (it.cases === 1 ? " case" : " cases") + ", " + it.rows + (it.rows === 1 ? " check" : " checks") + "</span></div></div>");
        continue;
      }
      var row = ROWS[it.r], c = C[row[0]], letters = row[2], rr = D.rr[it.r];
      var prev = i > 0 ? items[i - 1] : null;
      var cont = prev && prev.r != null && ROWS[prev.r][0] === row[0];
      var changed = D.lastChange && D.lastChange[it.r] && D.lastChange[it.r] === D.latestHistory;
      var caseSel = state.open && !state.open.a && state.open.c === c.id && state.open.m === row[1];
      html.push('<div class="r" role="row" aria-rowindex="' + (i + 1) + '" style="top:' + y + 'px" data-i="' + i + '">');
      html.push('<div class="h' + (caseSel ? " sel" : "") + '" role="rowheader" data-col="0" tabindex="' + (active.i === i && active.col === 0 ? "0" : "-1") +
        '" title="' + esc(c.title + " — " + c.id + " (" + row[1] + " mode)" + (c.div ? ". " + c.div + " " + divText(c.div).join(": ") : "") + ". Enter: every adapter on this check") + '">' +
        (c.div ? '<span class="div" aria-hidden="true">' + esc(c.div) + "</span>" : "") +
        (changed ? '<span class="delta" title="a verdict changed in the latest recorded run">Δ<span class="sr"> changed in the latest run</span></span>' : "") +
        '<span class="cid' + (cont ? " cont" : "") + '">' + esc(c.id) + "</span></div>");
      html.push('<div class="mode" role="gridcell">' + esc(row[1]) + "</div>");
      var agTitle = it.ran ? it.passed + " of the " + it.ran + " shown adapters that ran this check pass it, exactly or as a variant (" + it.ag + ")" : "no shown adapter ran this check";
      var agSym = it.ag === "all" ? "●" : it.ag === "none" ? "○" : it.ag === "some" ? "◐" : "·";
      html.push('<div class="agree ' + (it.ag === "na" ? "na" : it.ag) + '" role="gridcell" title="' + esc(agTitle) + '"><span aria-hidden="true">' + agSym + "</span>" + (it.ran ? it.passed + "/" + it.ran : "—") + '<span class="sr"> ' + it.ag + "</span></div>");
      if (c0 > 0) html.push('<div class="cs" aria-hidden="true" style="width:' + (c0 * cw) + 'px"></div>');
      for (var j = c0; j < c1; j++) {
        var ai = cols[j], Lc = letters[ai], st = STATUS_OF[Lc] || D.order[D.order.length - 1], a = A[ai], kd = KIND_OF[Lc];
        var dim = view.primary && !view.primary.has(st) && !(kd && view.primary.has(kd));
        var sel = openKey && openKey === c.id + "\u0000" + row[1] + "\u0000" + a.k;
        var reason = rr[ai] ? D.reasons[rr[ai]] : "";
        var word = kd ? "fail (" + KIND[kd].label + ")" : st;
        var tip = a.k + " · " + row[1] + " · " + (st === "missing" ? (a.avail ? "not run" : "unavailable: " + a.why) : word) + (reason ? ": " + reason : "");
        html.push('<div class="c st-' + st + (kd ? " k-" + kd : "") + (dim ? " dim" : "") + (sel ? " sel" : "") + '" role="gridcell" aria-colindex="' + (j + 4) + '" data-col="' + (j + 1) + '" tabindex="' +
          (active.i === i && active.col === j + 1 ? "0" : "-1") + '" title="' + esc(tip) + '"><span aria-hidden="true">' + (LETTER_SYM[Lc] || SYM[st]) + '</span><span class="sr">' + esc(word) + "</span></div>");
      }
      html.push("</div>");
    }
    gbody.innerHTML = html.join("");
    var activeRendered = active.i >= first && active.i < last;
    grid.setAttribute("tabindex", activeRendered ? "-1" : "0");
  }

  var rafPending = false;
  grid.addEventListener("scroll", function () {
    if (rafPending) return;
    rafPending = true;
    requestAnimationFrame(function () { rafPending = false; renderBody(false); });
  });
  window.addEventListener("resize", function () { metrics = null; headH = null; renderBody(true); });

  function firstRowItem() { for (var i = 0; i < view.items.length; i++) if (view.items[i].r != null) return i; return -1; }
  function stepRow(i, delta) {
    var n = view.items.length, j = i;
    var steps = Math.abs(delta), dir = delta > 0 ? 1 : -1, moved = i;
    while (steps > 0) {
      j += dir;
      if (j < 0 || j >= n) break;
      if (view.items[j].r != null) { moved = j; steps--; }
    }
    return moved;
  }
  function scrollToItem(i, col) {
    var y = i * RH, visible = grid.clientHeight - headHeight();
    if (y < grid.scrollTop) grid.scrollTop = y;
    else if (y + RH > grid.scrollTop + visible) grid.scrollTop = y + RH - visible;
    if (col > 0) {
      var lw = leftWidth(), cw = cellW(), x = lw + (col - 1) * cw;
      if (x < grid.scrollLeft + lw) grid.scrollLeft = x - lw;
      else if (x + cw > grid.scrollLeft + grid.clientWidth) grid.scrollLeft = x + cw - grid.clientWidth;
    } else {
      grid.scrollLeft = 0;
    }
  }
  function focusActive() {
    if (active.i < 0) return;
    scrollToItem(active.i, active.col);
    renderBody(true);
    var rowEl = gbody.querySelector('.r[data-i="' + active.i + '"]');
    var cell = rowEl && rowEl.querySelector('[data-col="' + active.col + '"]');
    if (cell) cell.focus({ preventScroll: true });
  }
  function setActive(i, col, focus) {
    active.i = i;
    active.col = Math.max(0, Math.min(col, view.cols.length));
    if (focus) focusActive(); else renderBody(true);
  }

  grid.addEventListener("focus", function (ev) {
    if (ev.target !== grid) return;
    if (active.i < 0 || active.i >= view.items.length || view.items[active.i].r == null) active = { i: firstRowItem(), col: 0 };
    focusActive();
  });
  gbody.addEventListener("keydown", function (ev) {
    if (active.i < 0) return;
    var page = Math.max(1, Math.floor((grid.clientHeight - headHeight()) / RH) - 1);
    var i = active.i, col = active.col, handled = true;
    switch (ev.key) {
      case "ArrowDown": i = stepRow(i, 1); break;
      case "ArrowUp": i = stepRow(i, -1); break;
      case "PageDown": i = stepRow(i, page); break;
      case "PageUp": i = stepRow(i, -page); break;
      case "ArrowRight": col = Math.min(col + 1, view.cols.length); break;
      case "ArrowLeft": col = Math.max(col - 1, 0); break;
      case "Home": if (ev.ctrlKey) i = firstRowItem(); col = 0; break;
      case "End": if (ev.ctrlKey) i = stepRow(view.items.length, -1); col = view.cols.length; break;
      case "Enter": case " ": openActive(); break;
      default: handled = false;
    }
    if (handled) { ev.preventDefault(); if (ev.key !== "Enter" && ev.key !== " ") setActive(i, col, true); }
  });
  gbody.addEventListener("click", function (ev) {
    var cell = ev.target.closest(".c, .h");
    if (!cell) return;
    var rowEl = cell.closest(".r");
    active.i = Number(rowEl.getAttribute("data-i"));
    active.col = Number(cell.getAttribute("data-col"));
    openActive();
  });
  function openActive() {
    var it = view.items[active.i];
    if (!it || it.r == null) return;
    var row = ROWS[it.r], c = C[row[0]];
    if (active.col === 0) { state.open = { c: c.id, m: row[1], a: "" }; }
    else {
      var a = A[view.cols[active.col - 1]];
      if (row[2][view.cols[active.col - 1]] === ".") return;
      state.open = { c: c.id, m: row[1], a: a.k };
    }
    writeHash();
    showDrawer(true);
  }

  // ------------------------------------------------------------------ toolbar
  var counts = {};
  VERDICT_VALUES.forEach(function (s) { counts[s] = 0; });
  ROWS.forEach(function (r) { for (var k = 0; k < r[2].length; k++) { var L = r[2][k]; counts[STATUS_OF[L]]++; if (KIND_OF[L]) counts[KIND_OF[L]]++; } });

  function toggleButtons(containerId, key, values, label) {
    var box = byId(containerId);
    values.forEach(function (v) {
      var b = h("button", { type: "button", "aria-pressed": "false", "data-v": v, class: key === "s" ? "st-btn" + (KIND[v] ? " kind" : "") : null,
        title: key === "s" ? (KIND[v] ? KIND[v].meaning : D.meaning[v]) : null }, label(v));
      b.addEventListener("click", function () {
        if (state[key].has(v)) state[key].delete(v); else state[key].add(v);
        update(true);
      });
      box.append(b);
    });
  }
  var verdictButtons = [];
  D.statuses.forEach(function (s) { verdictButtons.push(s); if (s === "fail") verdictButtons = verdictButtons.concat(KIND_NAMES); });
  if (counts.missing) verdictButtons.push("missing");
  toggleButtons("f-status", "s", verdictButtons, function (s) {
    if (KIND[s]) return [h("span", { "aria-hidden": "true", class: "st-fail", style: "background:none" }, KIND[s].symbol), " " + KIND[s].label + " ", h("span", { class: "n" }, String(counts[s]))];
    return [h("span", { "aria-hidden": "true", class: "st-" + s, style: "background:none" }, SYM[s]), " " + (s === "missing" ? "not run" : s) + " ", h("span", { class: "n" }, String(counts[s]))];
  });
  toggleButtons("f-mode", "m", MODES, function (m) { return m; });
  toggleButtons("f-agree", "g", ["all", "some", "none"], function (g) { return g; });
  byId("f-agree").title = "how many of the shown adapters that ran a check pass it (pass or variant, as the score counts)";

  var PICKS = [["l", "Language"], ["a", "Adapter"], ["cl", "Client"], ["sv", "Service"], ["al", "Algorithm"], ["sf", "Surface"],
    ["tk", "Session token"], ["py", "Payload"], ["tp", "Topic"], ["t", "Tag"]];
  function pickLabel(key, v) {
    if (key === "l") return v + " (" + A.filter(function (a) { return a.lang === v; }).length + ")";
    if (key === "a") { var a = A.filter(function (x) { return x.k === v; })[0]; return v + " — " + a.lib + " " + a.ver + (a.ref ? " (reference)" : ""); }
    if (key === "cl") return v === "none" ? "none (signer columns)" : v;
    return v;
  }
  var picks = byId("picks");
  PICKS.forEach(function (pair) {
    var key = pair[0], values = KEYS[key];
    if (values.length < 2 && key !== "a") return;
    var det = h("details", { class: "pick", id: "p-" + key, "data-key": key }, h("summary", null, pair[1] + " ", h("span", { class: "n" })));
    var box = h("div", { class: "pick-list", role: "group", "aria-label": pair[1] });
    var clear = h("button", { type: "button" }, "Show all");
    clear.addEventListener("click", function () { state[key].clear(); update(true); });
    box.append(h("div", { class: "pick-all" }, clear));
    values.forEach(function (v) {
      var input = h("input", { type: "checkbox", value: v });
      input.addEventListener("change", function () {
        if (input.checked) state[key].add(v); else state[key].delete(v);
        update(true);
      });
      box.append(h("label", null, input, " ", pickLabel(key, v)));
    });
    det.append(box);
    picks.append(det);
  });
  if (!VERSIONED.length) byId("l-vd").hidden = true;
  document.querySelectorAll(".pick").forEach(function (d) {
    d.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { d.open = false; d.querySelector("summary").focus(); ev.stopPropagation(); } });
  });
  document.addEventListener("click", function (ev) {
    document.querySelectorAll(".pick[open]").forEach(function (d) { if (!d.contains(ev.target)) d.open = false; });
  });

  var qInput = byId("f-q"), qTimer = null;
  qInput.addEventListener("input", function () {
    clearTimeout(qTimer);
    qTimer = setTimeout(function () { state.q = qInput.value.trim(); update(true); }, 120);
  });
  byId("f-disagree").addEventListener("change", function (ev) { state.d = ev.target.checked; update(true); });
  byId("f-vd").addEventListener("change", function (ev) { state.vd = ev.target.checked; update(true); });
  function resetFilters() {
    SET_KEYS.forEach(function (k) { state[k].clear(); });
    state.q = ""; state.d = false; state.vd = false;
    update(true);
  }
  byId("b-reset").addEventListener("click", resetFilters);
  byId("b-reset2").addEventListener("click", resetFilters);
  byId("b-details").addEventListener("click", function () { state.compact = !state.compact; update(true); });
  byId("b-csv").addEventListener("click", function () { download("sigharness-view.csv", "text/csv", viewCSV()); });
  byId("b-json").addEventListener("click", function () { download("sigharness-view.json", "application/json", viewJSON()); });
  byId("b-link").addEventListener("click", function (ev) { copyText(location.href, ev.currentTarget, "Link copied"); });
  document.querySelectorAll("[data-jump]").forEach(function (b) {
    b.addEventListener("click", function () {
      var target = byId(b.getAttribute("data-jump"));
      target.scrollIntoView({ block: "start" });
      var heading = target.querySelector("h2");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
    });
  });
  document.querySelectorAll("button[data-surface]").forEach(function (b) {
    b.addEventListener("click", function () {
      state.sf = new Set([b.getAttribute("data-surface")]);
      update(true);
      byId("sec-matrix").scrollIntoView({ block: "start" });
    });
  });
  // the score table sorts by any column (numbers by their data-v, best first; text A to Z); the reference stays apart
  document.querySelectorAll("#scores button.sort").forEach(function (b) {
    b.addEventListener("click", function () {
      var col = Number(b.getAttribute("data-col")), body = byId("scores-ranked");
      var desc = b.getAttribute("aria-sort") !== "descending";
      if (col < 2) desc = !desc;
      document.querySelectorAll("#scores button.sort").forEach(function (x) { x.removeAttribute("aria-sort"); });
      b.setAttribute("aria-sort", desc ? "descending" : "ascending");
      var rows = Array.from(body.querySelectorAll("tr[data-k]"));
      function key(tr) { var cell = tr.children[col]; var v = cell && cell.getAttribute("data-v"); return v == null ? (cell ? cell.textContent : "") : isNaN(Number(v)) ? v : Number(v); }
      rows.sort(function (x, y) {
        var ux = x.classList.contains("unavailable"), uy = y.classList.contains("unavailable");
        if (ux !== uy) return ux ? 1 : -1;  // an adapter that did not run stays last
        var kx = key(x), ky = key(y), d = typeof kx === "number" && typeof ky === "number" ? kx - ky : String(kx).localeCompare(String(ky));
        return desc ? -d : d;
      });
      var shown = Number(body.getAttribute("data-shown"));
      rows.forEach(function (tr, i) {
        var why = tr.nextElementSibling && tr.nextElementSibling.classList.contains("unavailable-why") ? tr.nextElementSibling : null;
        tr.classList.toggle("more", i >= shown);  // the first rows of the new order are the ones shown
        body.append(tr);
        if (why) body.append(why);
      });
    });
  });
  // a capped score table (hundreds of columns) shows its first rows until asked for all of them
  var scoresAll = byId("scores-all");
  if (scoresAll) scoresAll.addEventListener("click", function () {
    var capped = byId("scores-ranked").classList.toggle("capped");
    scoresAll.textContent = scoresAll.getAttribute(capped ? "data-all" : "data-first");
  });
  document.querySelectorAll("[data-topic]").forEach(function (b) {
    if (b.tagName !== "BUTTON") return;
    b.addEventListener("click", function () {
      state.tp = new Set([b.getAttribute("data-topic")]);
      update(true);
      byId("sec-matrix").scrollIntoView({ block: "start" });
    });
  });

  function syncControls() {
    document.querySelectorAll("#f-status button, #f-mode button, #f-agree button").forEach(function (b) {
      var key = b.parentNode.id === "f-status" ? "s" : b.parentNode.id === "f-mode" ? "m" : "g";
      b.setAttribute("aria-pressed", state[key].has(b.getAttribute("data-v")) ? "true" : "false");
    });
    document.querySelectorAll(".pick[data-key]").forEach(function (box) {
      var key = box.getAttribute("data-key");
      box.querySelectorAll("input[type=checkbox]").forEach(function (input) { input.checked = state[key].has(input.value); });
      box.querySelector("summary .n").textContent = state[key].size ? "(" + state[key].size + ")" : "";
    });
    if (qInput.value.trim() !== state.q) qInput.value = state.q;
    byId("f-disagree").checked = state.d;
    byId("f-vd").checked = state.vd;
    var problems = byId("q-problems");
    problems.textContent = view.problems && view.problems.length ? view.problems.join(" · ") : "";
    problems.hidden = !problems.textContent;
    syncScenario();
    byId("b-details").setAttribute("aria-pressed", state.compact ? "false" : "true");
  }

  // ------------------------------------------------------------------ scenario: ranked libraries for the current filters
  var scenario = byId("scenario");
  scenario.querySelectorAll("select[data-dim]").forEach(function (sel) {
    var key = sel.getAttribute("data-dim");
    KEYS[key].forEach(function (v) { sel.append(h("option", { value: v }, v)); });
    if (KEYS[key].length < 2) sel.parentNode.hidden = true;
    sel.addEventListener("change", function () {
      state[key] = sel.value ? new Set([sel.value]) : new Set();
      update(true);
    });
  });
  toggleButtons("sc-modes", "m", MODES, function (m) { return m; });
  function syncScenario() {
    scenario.querySelectorAll("select[data-dim]").forEach(function (sel) {
      var set = state[sel.getAttribute("data-dim")];
      sel.value = set.size === 1 ? Array.from(set)[0] : "";
      sel.classList.toggle("several", set.size > 1);
    });
    byId("sc-modes").querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-pressed", state.m.has(b.getAttribute("data-v")) ? "true" : "false"); });
  }
  function openCheck(r, ai) {
    state.open = { c: C[ROWS[r][0]].id, m: ROWS[r][1], a: A[ai].k };
    writeHash();
    showDrawer(true);
  }
  function ranking() {
    var per = view.cols.map(function (ai) { return { ai: ai, n: {}, ran: 0, good: 0, judged: 0, broken: [] }; });
    view.items.forEach(function (it) {
      if (it.r == null) return;
      var letters = ROWS[it.r][2];
      per.forEach(function (p) {
        var L = letters[p.ai];
        if (L === ".") return;
        p.n[L] = (p.n[L] || 0) + 1;
        p.ran++;
        if (L === "u") return;
        p.judged++;
        if (GOOD[L]) p.good++;
        else if (BAD[L] && p.broken.length < 3) p.broken.push(it.r);
      });
    });
    per.forEach(function (p) {
      p.right = p.ran ? p.good / p.ran : null;
      p.score = p.judged ? p.good / p.judged : null;
      p.cov = p.ran ? p.judged / p.ran : null;
      p.bad = p.judged - p.good;
    });
    per.sort(function (x, y) {
      return (y.right == null ? -1 : y.right) - (x.right == null ? -1 : x.right) || (y.score || 0) - (x.score || 0) || y.judged - x.judged || x.ai - y.ai;
    });
    return per;
  }
  var RANK_LINES = 30, rankAll = false;  // a merged report has ~150 columns: the first 30, the rest on demand
  function renderRanking() {
    var body = byId("rank-body");
    body.textContent = "";
    var per = ranking(), rank = 0, refs = [];
    function line(p, label) {
      var a = A[p.ai];
      var counts = Object.keys(p.n).sort(function (x, y) { return LETTER_RANK[x] - LETTER_RANK[y]; }).map(function (L) {
        var k = KIND_OF[L];
        return h("span", { class: "cnt st-" + STATUS_OF[L] + (k ? " k-" + k : ""), title: k ? "fail: " + KIND[k].label : STATUS_OF[L] }, (LETTER_SYM[L] || "?") + " " + p.n[L]);
      });
      var breaks = p.broken.map(function (r) {
        var b = h("button", { type: "button", class: "linkish", title: "open the drill-down" }, C[ROWS[r][0]].title + " (" + ROWS[r][1] + ")");
        b.addEventListener("click", function () { openCheck(r, p.ai); });
        var L = ROWS[r][2][p.ai], k = KIND_OF[L];
        return h("li", null, h("span", { class: "st-" + STATUS_OF[L] + (k ? " k-" + k : ""), title: k ? "fail: " + KIND[k].label : STATUS_OF[L] },
          LETTER_SYM[L] + " ", h("span", { class: "sr" }, (k ? "fail: " + KIND[k].label : STATUS_OF[L]) + ": ")), b);
      });
      if (p.bad > p.broken.length) {
        var more = h("button", { type: "button", class: "linkish" }, "all " + p.bad + " in the matrix");
        more.addEventListener("click", function () {
          state.q = (state.q + " " + a.k + ":bad").trim();
          update(true);
          byId("sec-matrix").scrollIntoView({ block: "start" });
        });
        breaks.push(h("li", null, more));
      }
      return h("tr", { class: a.ref ? "ref" : null, "data-k": a.k },
        h("td", { class: "num" }, label), h("th", { scope: "row" }, h("code", null, a.k)), h("td", null, a.lib + " " + a.ver),
        h("td", { class: "num" }, p.ran ? p.good + "/" + p.ran : "—"), h("td", { class: "num" }, pct(p.score)), h("td", { class: "num" }, pct(p.cov)),
        h("td", { class: "counts" }, counts), h("td", null, p.ran === 0 ? h("span", { class: "muted" }, "no check run") : p.judged === 0 ? h("span", { class: "muted" }, "cannot express these checks (unsupported)") : breaks.length ? h("ul", { class: "breaks" }, breaks) : h("span", { class: "muted" }, "nothing")));
    }
    var shownLines = 0, hiddenLines = 0, frag = document.createDocumentFragment();
    per.forEach(function (p) {
      if (A[p.ai].ref) { refs.push(p); return; }
      if (!A[p.ai].avail) return;
      rank++;
      if (!rankAll && shownLines >= RANK_LINES) { hiddenLines++; return; }
      shownLines++;
      frag.append(line(p, String(rank)));
    });
    if (hiddenLines) {
      var all = h("button", { type: "button", class: "linkish" }, "show the other " + hiddenLines);
      all.addEventListener("click", function () { rankAll = true; renderRanking(); });
      frag.append(h("tr", null, h("td"), h("td", { colspan: "7", class: "muted" }, hiddenLines + " more adapters rank lower: ", all)));
    }
    refs.forEach(function (p) { frag.append(line(p, "ref")); });
    body.append(frag);
  }

  var timing = {};
  function update(fromUser) {
    var t0 = performance.now();
    metrics = null;
    computeView();
    var t1 = performance.now();
    syncControls();
    var t2 = performance.now();
    renderHead();
    var t3 = performance.now();
    if (active.i >= view.items.length || (active.i >= 0 && view.items[active.i].r == null)) active = { i: firstRowItem(), col: 0 };
    if (active.i < 0) active.i = firstRowItem();
    if (fromUser) grid.scrollTop = 0;
    lastRange = "";
    renderBody(true);
    var t4 = performance.now();
    byId("empty").hidden = view.rows > 0;
    renderRanking();
    var t5 = performance.now();
    timing = { filter: t1 - t0, controls: t2 - t1, head: t3 - t2, body: t4 - t3, ranking: t5 - t4 };
    byId("shown").textContent = "Showing " + view.rows + " of " + ROWS.length + " checks (" + view.cases + " cases) × " + view.cols.length + " of " + A.length + " adapters";
    if (fromUser) writeHash();
  }

  // ------------------------------------------------------------------ export
  function viewRecords() {
    var out = [];
    view.items.forEach(function (it) {
      if (it.r == null) return;
      var row = ROWS[it.r], c = C[row[0]];
      view.cols.forEach(function (ai) {
        var L = row[2][ai], st = STATUS_OF[L], kd = KIND_OF[L] || "";
        if (view.primary && !view.primary.has(st) && !(kd && view.primary.has(kd))) return;  // the cells the verdict filter keeps
        var a = A[ai];
        out.push({ case: c.id, mode: row[1], topic: D.topics[c.topic], adapter: a.k, language: a.lang, library: a.lib, library_version: a.ver,
          status: st, reason: D.rr[it.r][ai] ? D.reasons[D.rr[it.r][ai]] : "", fail_kind: kd });
      });
    });
    return out;
  }
  function csvField(v) {
    var s = String(v == null ? "" : v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s; // no formulas when opened in a spreadsheet
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function viewCSV() {
    var cols = ["case", "mode", "topic", "adapter", "language", "library", "library_version", "status", "reason", "fail_kind"];
    return [cols.join(",")].concat(viewRecords().map(function (r) { return cols.map(function (k) { return csvField(r[k]); }).join(","); })).join("\r\n") + "\r\n";
  }
  function viewJSON() {
    return JSON.stringify({ report: document.title, view: hashString(), checks: viewRecords() }, null, 1);
  }
  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type + ";charset=utf-8" }));
    var a = h("a", { href: url, download: name, style: "display:none" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 2000);
  }
  function copyText(text, button, done) {
    function fallback() {
      var ta = h("textarea", { style: "position:fixed;left:-9999px" });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { document.execCommand("copy"); } catch (e) { /* nothing else to try */ }
      ta.remove();
    }
    var old = button.textContent;
    function feedback() { button.textContent = done; setTimeout(function () { button.textContent = old; }, 1500); }
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(feedback, function () { fallback(); feedback(); });
    else { fallback(); feedback(); }
  }

  // ------------------------------------------------------------------ drill-down
  var drawer = byId("drawer"), drBody = byId("dr-body"), drTitle = byId("dr-title");
  var returnFocus = null;

  function findRow(caseId, mode) {
    for (var r = 0; r < ROWS.length; r++) if (C[ROWS[r][0]].id === caseId && ROWS[r][1] === mode) return r;
    return -1;
  }
  function showDrawer(focus) {
    if (!state.open) { drawer.hidden = true; return; }
    var r = findRow(state.open.c, state.open.m);
    if (r < 0) { state.open = null; drawer.hidden = true; return; }
    var ai = -1;
    if (state.open.a) A.forEach(function (a, i) { if (a.k === state.open.a) ai = i; });
    if (!drawer.hidden && document.activeElement && !drawer.contains(document.activeElement)) returnFocus = document.activeElement;
    if (drawer.hidden) returnFocus = document.activeElement;
    drBody.textContent = "";
    if (ai >= 0 && ROWS[r][2][ai] !== ".") buildCell(r, ai); else buildCase(r);
    drawer.hidden = false;
    drBody.scrollTop = 0;
    if (focus) drTitle.focus();
    renderBody(true);
  }
  // Scroll the page to the matrix and the matrix to the open check's row, its cell active.
  function revealOpen() {
    if (!state.open) return;
    var target = -1;
    view.items.forEach(function (it, i) { if (target < 0 && it.r != null && C[ROWS[it.r][0]].id === state.open.c && ROWS[it.r][1] === state.open.m) target = i; });
    if (target < 0) return;
    var col = 0;
    view.cols.forEach(function (ai, j) { if (A[ai].k === state.open.a) col = j + 1; });
    active.i = target;
    active.col = col;
    byId("sec-matrix").scrollIntoView({ block: "start" });
    grid.scrollTop = Math.max(0, target * RH - 3 * RH);
    scrollToItem(target, col);
    renderBody(true);
  }
  function closeDrawer() {
    state.open = null;
    drawer.hidden = true;
    writeHash();
    renderBody(true);
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
    else focusActive();
  }
  byId("dr-close").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !drawer.hidden) { ev.preventDefault(); closeDrawer(); } });

  function otherAdapters(r, current) {
    var row = ROWS[r];
    var box = h("div", { class: "others" });
    A.forEach(function (a, i) {
      var st = STATUS_OF[row[2][i]];
      var b = h("button", { type: "button", "aria-current": i === current ? "true" : null, title: D.rr[r][i] ? D.reasons[D.rr[r][i]] : st },
        KIND_OF[row[2][i]] ? letterChip(row[2][i]) : h("span", { class: "chip st-" + st }, h("span", { "aria-hidden": "true" }, SYM[st]), " " + (st === "missing" ? "not run" : st)), " ", a.k);
      if (st === "missing") b.disabled = true;
      b.addEventListener("click", function () { state.open = { c: C[row[0]].id, m: row[1], a: a.k }; writeHash(); showDrawer(true); });
      box.append(b);
    });
    return box;
  }

  function buildCase(r) {
    var row = ROWS[r], c = C[row[0]];
    drTitle.textContent = c.title;
    drBody.append(h("p", { class: "sub" }, h("code", null, c.id), " · " + row[1] + " mode · " + D.topics[c.topic]));
    drBody.append(h("h3", null, "Every adapter on this check"));
    drBody.append(otherAdapters(r, -1));
    caseSection(c);
    reproSection(c, null);
  }

  function buildCell(r, ai) {
    var row = ROWS[r], c = C[row[0]], a = A[ai], st = STATUS_OF[row[2][ai]];
    var d = cellDetail(r, ai);
    var reason = D.rr[r][ai] ? D.reasons[D.rr[r][ai]] : "";
    drTitle.textContent = c.title;
    drBody.append(h("p", { class: "sub" }, h("code", null, c.id), " · " + row[1] + " mode · ", h("strong", null, a.k), " (" + a.lib + " " + a.ver + ", " + a.lang + ")"));
    var L = row[2][ai], kd = KIND_OF[L];
    drBody.append(h("div", { class: "verdict-line" }, letterChip(L), h("span", null, reason || (st === D.order[0] ? D.meaning[st] : ""))));
    if (kd) drBody.append(h("p", { class: "sub kind-line" }, "What happened: " + KIND[kd].meaning + "."));
    if (D.classes[st] === "bad" && (c.div || (c.refs && c.refs.length))) {
      var ev = [];
      if (c.div) { var dvt = divText(c.div); ev.push(h("span", { class: "divref", title: dvt[1] }, h("b", null, c.div), " " + dvt[0] + (dvt[1] ? ": " + dvt[1] : ""))); }
      (c.refs || []).forEach(function (ref) {
        var url = ref[1] && /^https?:\/\//.test(ref[1]) ? ref[1] : null;
        ev.push(url ? h("a", { href: url, rel: "noreferrer noopener", target: "_blank" }, ref[0]) : h("span", null, ref[0]));
      });
      drBody.append(h("p", { class: "evidence" }, h("strong", null, "Evidence and known issues: "), ev.map(function (x, i) { return i ? [" · ", x] : x; })));
    }
    var facts = [];
    if (d.es) facts.push("expected stages from " + (d.es === "case" ? "the case itself" : "the reference signer"));
    if (d.stage) facts.push("first difference: " + (STAGE_TITLE[d.stage] || d.stage));
    if (d.h) facts.push(d.h[1] ? "verdict " + st + " since " + d.h[0] + " (before: " + d.h[1] + ")" : "verdict " + st + " since the first recorded run (" + d.h[0] + ")");
    if (facts.length) drBody.append(h("p", { class: "sub" }, facts.join(" · ")));
    drBody.append(h("h3", null, "Other adapters on this check"));
    drBody.append(otherAdapters(r, ai));

    if (d.st && d.st.length) {
      drBody.append(h("h3", null, "Stages: expected vs actual"));
      d.st.forEach(function (s) { drBody.append(stageBlock(s, d.stage)); });
    }
    if (d.ver) {
      var v = d.ver;
      drBody.append(h("h3", null, "Server-side verification"));
      drBody.append(h("p", null, v.valid ? h("span", { class: "chip st-pass" }, "✓ accepted") : h("span", { class: "chip st-fail" }, "✗ rejected"),
        " ", S(v.reason) || "", v.rules && v.rules !== "spec" ? " (accepted under the open choice " + v.rules + ")" : ""));
      if (S(v.exp)) drBody.append(h("p", { class: "sub" }, "The case expects the server to refuse a correct generator's answer (" + S(v.exp) + ")."));
      if (v.changes && v.changes.length) drBody.append(h("ul", null, v.changes.map(function (x) { return h("li", null, S(x)); })));
      if (S(v.cr)) drBody.append(h("details", null, h("summary", null, "The canonical request the verifier derived from what it received"), h("pre", { class: "pre" }, S(v.cr))));
    }
    if (d.op && d.op.length) {  // the oracles (docs/oracles.md): verifiers written by others, asked about this answer
      var ours = d.ver ? (d.ver.valid ? "accept" : "reject") : null;
      drBody.append(h("h3", null, "Oracles"));
      drBody.append(h("ul", { class: "oracles" }, d.op.map(function (o) {
        var said = S(o[1]) || "?", differs = ours && said !== ours && said !== "n/a", known = o.length > 3 ? S(o[3]) : null;
        return h("li", { class: differs ? (known ? "differs known" : "differs") : null }, h("code", null, S(o[0])), ": " + said + (S(o[2]) ? " (" + S(o[2]) + ")" : ""),
          differs ? h("strong", null, " — disagrees with this harness's verifier (" + ours + ")") : "",
          differs ? (known ? " · a reviewed difference: " + known + " (harness/oracle_differences.yaml)" : " · to triage") : "");
      })));
    }
    if (d.dec) {
      var ev = S(d.dec[1]);
      drBody.append(h("h3", null, "Decided by"));
      drBody.append(h("p", null, "rule ", h("code", null, S(d.dec[0])), ev ? [" · evidence ", /^https?:\/\//.test(ev) ? h("a", { href: ev, rel: "noreferrer noopener", target: "_blank" }, ev) : ev] : ""));
      var sides = [];
      if (d.dec[2] && d.dec[2].length) sides.push("oracles that agree with this verdict's verification: " + d.dec[2].join(", "));
      if (sides.length) drBody.append(h("p", { class: "sub" }, sides.join(" · ")));
      if (d.dec[3] && d.dec[3].length) drBody.append(h("ul", null, d.dec[3].map(function (x) {
        return h("li", null, "oracles disagree: " + x[0] + (S(x[1]) ? " (" + S(x[1]) + ")" : "") + (x[2] ? " · known difference " + x[2] : " · to triage"));
      })));
    }
    if (d.sig) {
      drBody.append(h("h3", null, row[1] === "form" ? "Where the library's form is posted" : row[1] === "token" ? "The token as a presigned URL" : "Signed request as the library emitted it"));
      drBody.append(h("pre", { class: "pre" }, (S(d.sig.m) || "") + " " + (S(d.sig.u) || "")));
      var tbl = h("table", { class: "hdrs" });
      d.sig.h.forEach(function (pair) { tbl.append(h("tr", null, h("td", null, S(pair[0]) + ":"), h("td", null, S(pair[1])))); });
      drBody.append(tbl);
      if (d.sig.b != null) drBody.append(h("p", { class: "sub" }, "body: " + d.sig.b + " bytes"));
    }
    caseSection(c);
    reproSection(c, a);
    var timing = [];
    if (d.ms != null) timing.push("wall time " + d.ms + " ms");
    if (d.ns != null) timing.push("inside the library " + (d.ns / 1000).toFixed(1) + " µs");
    if (timing.length) drBody.append(h("p", { class: "sub" }, timing.join(" · ")));
  }

  function caseSection(c) {
    drBody.append(h("h3", null, "The case"));
    if (c.note) drBody.append(h("p", null, c.note));
    var dl = h("dl", { class: "kv" });
    function kv(k, v) { if (v == null || v === "" || (Array.isArray(v) && !v.length)) return; dl.append(h("dt", null, k), h("dd", null, v)); }
    kv("Algorithm", c.algo + (c.svc ? " · service " + c.svc : "") + (c.region ? " · region " + c.region : "") + (c.rset && c.rset.length > 1 ? " · region set " + c.rset.join(",") : ""));
    kv("Tags", c.tags.map(function (t) { return D.tags[t]; }).join(", "));
    var dv = divText(c.div);
    kv("Divergence", c.div ? [h("b", null, (c.div + " " + dv[0]).trim()), dv[1] ? ": " + dv[1] : ""] : null);
    kv("Open choices", (c.open || []).join(", "));
    kv("Expected error", c.err ? "a correct signer refuses: " + c.err : null);
    kv("Refusal", c.refusal ? "refusing is an acceptable variant" : null);
    kv("Session token", c.tok ? "yes (shortened in this report)" : null);
    if (c.refs && c.refs.length) {
      kv("References", c.refs.map(function (ref, i) {
        var url = ref[1] && /^https?:\/\//.test(ref[1]) ? ref[1] : null;
        var node = url ? h("a", { href: url, rel: "noreferrer noopener", target: "_blank" }, ref[0]) : h("span", null, ref[0]);
        return i ? [", ", node] : node;
      }));
    }
    kv("Source", h("code", null, c.src));
    drBody.append(dl);
    var req = c.req || {};
    var text = (req.m || "") + " " + (req.u || "") + "\n" + (req.h || []).map(function (p) { return p[0] + ": " + p[1]; }).join("\n") + (req.b ? "\n\n[" + req.b + " bytes of body]" : "");
    drBody.append(h("details", null, h("summary", null, "The request as the case gives it"), h("pre", { class: "pre" }, text)));
  }

  function reproSection(c, a) {
    drBody.append(h("h3", null, "Reproduce"));
    var cmds = [];
    if (a) {
      if (a.k !== a.name) {
        drBody.append(h("p", { class: "sub" }, "This column is " + a.name + " with " + a.lib + " " + a.ver + " (a merged report): run it with that version installed."));
        if (a.lang === "python") cmds.push(["That version", "python3 -m pip install " + shq(a.lib + "==" + a.ver)]);
      }
      cmds.push(["This check", "sigharness run " + c.repro + " --adapters " + shq(a.name) + " --out /tmp/sigharness-repro"]);
    } else {
      cmds.push(["Every adapter on this case", "sigharness run " + c.repro + " --out /tmp/sigharness-repro"]);
    }
    if (c.show) cmds.push(["The reference signer's stages", c.show]);
    cmds.forEach(function (pair) {
      var code = h("code", null, pair[1]);
      var b = h("button", { type: "button" }, "Copy");
      b.addEventListener("click", function () { copyText(pair[1], b, "Copied"); });
      drBody.append(h("div", { class: "sub" }, pair[0] + (pair[1].indexOf("sigharness run") === 0 ? " (runs the case in every mode it has):" : ":")), h("div", { class: "cmd" }, code, b));
    });
  }

  // Align two texts line by line (longest common subsequence), then pair removed and added lines.
  function align(e, a) {
    var n = e.length, m = a.length, out = [];
    if (n * m > 4000000) {
      for (var k = 0; k < Math.max(n, m); k++) out.push([k < n ? k : -1, k < m ? k : -1, k < n && k < m && e[k] === a[k]]);
      return out;
    }
    var w = m + 1, dp = new Uint32Array((n + 1) * w);
    for (var i = n - 1; i >= 0; i--) for (var j = m - 1; j >= 0; j--)
      dp[i * w + j] = e[i] === a[j] ? dp[(i + 1) * w + j + 1] + 1 : Math.max(dp[(i + 1) * w + j], dp[i * w + j + 1]);
    var i2 = 0, j2 = 0, dels = [], adds = [];
    function flush() {
      for (var q = 0; q < Math.max(dels.length, adds.length); q++) out.push([q < dels.length ? dels[q] : -1, q < adds.length ? adds[q] : -1, false]);
      dels = []; adds = [];
    }
    while (i2 < n || j2 < m) {
      if (i2 < n && j2 < m && e[i2] === a[j2]) { flush(); out.push([i2, j2, true]); i2++; j2++; }
      else if (j2 >= m || (i2 < n && dp[(i2 + 1) * w + j2] >= dp[i2 * w + j2 + 1])) { dels.push(i2); i2++; }
      else { adds.push(j2); j2++; }
    }
    flush();
    return out;
  }
  function marked(text, other) {
    // highlight what differs from `other` (common prefix and suffix left plain)
    if (other == null) return [text];
    var p = 0, maxp = Math.min(text.length, other.length);
    while (p < maxp && text[p] === other[p]) p++;
    var s = 0;
    while (s < text.length - p && s < other.length - p && text[text.length - 1 - s] === other[other.length - 1 - s]) s++;
    var mid = text.slice(p, text.length - s);
    if (!mid) return [text];
    return [text.slice(0, p), h("mark", { class: "dm" }, mid), text.slice(text.length - s)];
  }
  function stageBlock(s, firstStage) {
    var name = s[0], exp = S(s[1]), act = S(s[2]), compared = s[3] === 1, equal = s[4], line = s[5], note = S(s[6]), diff = S(s[7]);
    var stateEl;
    if (!compared) stateEl = h("span", { class: "state-skip" }, "not compared" + (note ? ": " + note : ""));
    else if (equal === 1) stateEl = h("span", { class: "state-equal" }, "✓ equal");
    else stateEl = h("span", { class: "state-differs" }, "✗ differs" + (line ? ", first at line " + line : ""));
    var det = h("details", { class: "stage", open: compared && equal !== 1 ? true : null },
      h("summary", null, h("span", { class: "sname" }, STAGE_TITLE[name] || name), stateEl, name === firstStage ? h("span", { class: "chip st-fail" }, "first difference") : null));
    if (exp == null && act == null) { det.append(h("p", { class: "sub", style: "padding:0 10px" }, "no text")); return det; }
    if (!compared || equal === 1 || exp == null || act == null) {
      if (exp != null) det.append(h("div", { class: "sub", style: "padding:0 10px" }, "expected" + (equal === 1 ? " = actual" : "")), h("pre", { class: "pre" }, exp));
      if (act != null && equal !== 1) det.append(h("div", { class: "sub", style: "padding:0 10px" }, "actual"), h("pre", { class: "pre" }, act));
      return det;
    }
    var el = exp.split("\n"), al = act.split("\n");
    var rows = align(el, al);
    var tbl = h("table", { class: "cmp" });
    tbl.append(h("colgroup", null, h("col", { style: "width:3.2em" }), h("col", { style: "width:1.6em" }), h("col"), h("col", { style: "width:3.2em" }), h("col")));
    tbl.append(h("thead", null, h("tr", null, h("th", { colspan: "3" }, "expected"), h("th", { colspan: "2" }, "actual"))));
    var tb = h("tbody"), firstDone = false;
    rows.forEach(function (rw) {
      var ei = rw[0], aj = rw[1], same = rw[2];
      var et = ei >= 0 ? el[ei] : null, at = aj >= 0 ? al[aj] : null;
      var first = !same && !firstDone;
      if (first) firstDone = true;
      tb.append(h("tr", { class: (same ? "same" : "diff") + (first ? " first" : "") },
        h("td", { class: "ln" }, ei >= 0 ? String(ei + 1) : ""),
        h("td", { class: "mk", title: first ? "first differing line" : null }, first ? ["▶", h("span", { class: "sr" }, "first difference")] : same ? "" : "≠"),
        h("td", { class: "txt e" }, et == null ? "" : same ? et : marked(et, at)),
        h("td", { class: "ln" }, aj >= 0 ? String(aj + 1) : ""),
        h("td", { class: "txt a" }, at == null ? "" : same ? at : marked(at, et))));
    });
    tbl.append(tb);
    det.append(h("div", { class: "table-wrap" }, tbl));
    if (diff) det.append(h("details", { style: "padding:0 10px 6px" }, h("summary", null, "unified diff"), h("pre", { class: "pre" }, diff)));
    return det;
  }

  // ------------------------------------------------------------------ start
  window.addEventListener("hashchange", function () {
    if (writing) return;
    var sec = /^#[A-Za-z][\w-]*$/.test(location.hash) ? document.getElementById(location.hash.slice(1)) : null;
    if (sec) { sec.scrollIntoView({ block: "start" }); return; }
    readHash();
    update(false);
    showDrawer(false);
    revealOpen();
  });
  // A section id as the fragment (#sec-oracles) goes to that section; anything else is a view.
  var section = /^#[A-Za-z][\w-]*$/.test(location.hash) ? document.getElementById(location.hash.slice(1)) : null;
  if (!section) readHash();
  update(false);
  if (section) section.scrollIntoView({ block: "start" });
  else if (state.open) { showDrawer(false); revealOpen(); }
  else if (location.hash.length > 1) byId(state.q || Array.from(SET_KEYS).some(function (k) { return state[k].size && k !== "s"; }) ? "sec-choose" : "sec-matrix").scrollIntoView({ block: "start" });

  if (window.performance && performance.mark) performance.mark("sigharness-ready");  // benchmarks/report_browser.py reads both marks
  // for tests and for anyone scripting the page
  window.sigharnessReport = {
    viewCSV: viewCSV, viewJSON: viewJSON, viewRecords: viewRecords,
    shown: function () { return { rows: view.rows, cases: view.cases, adapters: view.cols.length }; },
    state: function () { return hashString(); },
    timing: function () { return timing; },  // the last update's milliseconds, step by step
    // set a view from a fragment (as a link would) and return the milliseconds filtering and drawing took
    apply: function (fragment) {
      var t0 = performance.now();
      writing = true;
      try { history.replaceState(null, "", "#" + fragment); } finally { writing = false; }
      readHash();
      update(false);
      showDrawer(false);
      return performance.now() - t0;
    },
  };
})();
