// chipgap workbench: charts, fragments loaded after the page, the chips table, the assumptions form.
// Every HTML inserted comes from this server's templates (escaped there); user text goes in as text.
"use strict";

function embedCharts(root) {
  if (typeof vegaEmbed === "undefined") return;
  root.querySelectorAll("figure.chart[data-spec]").forEach(function (el) {
    if (el.dataset.done) return;
    el.dataset.done = "1";
    var spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
    vegaEmbed(el, spec, {
      renderer: "canvas", actions: false, defaultStyle: false,
      ast: true, expr: vegaInterpreter.expressionInterpreter,
      tooltip: {disableDefaultStyle: true}
    }).catch(function (e) { el.textContent = "chart: " + e.message; });
  });
}

function loadFragment(el) {
  el.setAttribute("aria-busy", "true");
  return fetch(el.dataset.fragment, {credentials: "same-origin"}).then(function (r) {
    return r.text().then(function (t) {
      if (!r.ok) {
        var msg = t;
        try { msg = JSON.parse(t).detail; } catch (e) { /* plain text */ }
        el.replaceChildren(Object.assign(document.createElement("p"), {className: "error", textContent: msg}));
      } else {
        el.innerHTML = t;
        el.dataset.loaded = "1";
        embedCharts(el);
      }
      el.removeAttribute("aria-busy");
    });
  });
}

function tidyQuestionForm(form) {
  // empty inputs are left out of the URL: the shareable link holds only what was asked
  form.addEventListener("submit", function () {
    form.querySelectorAll("input, select, textarea").forEach(function (i) {
      if (i.name && i.value === "") i.disabled = true;
    });
  });
}

function chipsTable(table) {
  var body = table.tBodies[0];
  var filter = document.getElementById("filter");
  var country = document.getElementById("country");
  var vendor = document.getElementById("vendor");
  var shown = document.getElementById("shown");
  function apply() {
    var text = filter.value.toLowerCase(), n = 0;
    Array.from(body.rows).forEach(function (row) {
      var ok = (!text || row.textContent.toLowerCase().indexOf(text) >= 0) &&
        (!country.value || row.dataset.country === country.value) &&
        (!vendor.value || row.dataset.vendor === vendor.value);
      row.hidden = !ok;
      if (ok) n += 1;
    });
    shown.textContent = n + " of " + body.rows.length + " chips";
  }
  [filter, country, vendor].forEach(function (el) { el.addEventListener("input", apply); });
  table.querySelectorAll("th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () {
      var i = th.cellIndex, num = th.dataset.sort === "num";
      var asc = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var key = function (row) {
        var c = row.cells[i];
        if (!num) return c.textContent.trim().toLowerCase();
        var v = parseFloat(c.dataset.v !== undefined ? c.dataset.v : c.textContent);
        return isNaN(v) ? null : v;
      };
      var rows = Array.from(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
}

function assumptionsForm(form) {
  var status = document.getElementById("status");
  var panel = document.getElementById("changes-answers");
  var timer = null;
  function items() {
    return Array.from(form.querySelectorAll("input[type=text]")).filter(function (i) {
      return i.value.trim() !== "";
    }).map(function (i) { return {key: i.name, text: i.value.trim()}; });
  }
  function mark(changes) {
    var keys = new Set(changes.map(function (c) { return c.key; }));
    form.querySelectorAll("tr[data-key]").forEach(function (tr) {
      tr.classList.toggle("changed", keys.has(tr.dataset.key));
      tr.querySelector(".err").textContent = "";
    });
    status.textContent = changes.length ? changes.length + " changed" : "no change";
  }
  function send() {
    status.textContent = "checking…";
    fetch("/api/changes/check", {
      method: "POST", credentials: "same-origin",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({changes: items()})
    }).then(function (r) {
      return r.json().then(function (d) {
        if (!r.ok) {
          var det = Array.isArray(d.detail) ? d.detail[0] : {msg: String(d.detail), loc: []};
          var key = (det.loc || []).filter(function (x) { return String(x).indexOf(":") > 0; })[0];
          var row = key && form.querySelector('tr[data-key="' + CSS.escape(key) + '"] .err');
          if (row) row.textContent = det.msg; else status.textContent = det.msg;
          return;
        }
        mark(d.changes);
        status.textContent += ", recomputing…";
        loadFragment(panel).then(function () { mark(d.changes); });
      });
    });
  }
  form.addEventListener("input", function (e) {
    if (e.target.type !== "text") return;
    clearTimeout(timer);
    timer = setTimeout(send, 700);
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); send(); });
  var upload = document.getElementById("upload");
  upload.addEventListener("change", function () {
    var f = upload.files[0];
    if (!f) return;
    status.textContent = "reading " + f.name + "…";
    f.text().then(function (text) {
      return fetch("/api/scenario/changes", {
        method: "POST", credentials: "same-origin",
        headers: {"content-type": "application/yaml"}, body: text
      });
    }).then(function (r) {
      return r.json().then(function (d) {
        if (!r.ok) {
          status.textContent = Array.isArray(d.detail) ? d.detail[0].msg : String(d.detail);
          return;
        }
        window.location.reload();
      });
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  embedCharts(document);
  document.querySelectorAll(".fragment[data-fragment]").forEach(function (el) {
    if (!el.dataset.loaded) loadFragment(el);
  });
  var q = document.getElementById("question") || document.getElementById("sweep");
  if (q) tidyQuestionForm(q);
  var chips = document.getElementById("chips");
  if (chips) chipsTable(chips);
  var a = document.getElementById("assumptions");
  if (a) assumptionsForm(a);
});
