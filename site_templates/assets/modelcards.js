// Filter and sort for modelcards catalog tables. Self-hosted; no dependencies.
(function () {
  "use strict";

  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) === a.split(" ")[0] && String(y) === b.split(" ")[0]) {
      return x - y;
    }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function enhance(container) {
    var table = container.querySelector("table");
    if (!table || container.dataset.mcReady) return;
    container.dataset.mcReady = "1";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);

    var controls = document.createElement("div");
    controls.className = "mc-controls";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "mc-filter";
    input.placeholder = "Filter: words must all match, e.g. production high";
    input.setAttribute("aria-label", "Filter the table");
    var count = document.createElement("span");
    count.className = "mc-count";
    count.setAttribute("aria-live", "polite");
    controls.appendChild(input);
    controls.appendChild(count);
    container.insertBefore(controls, container.firstChild);

    function applyFilter() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    input.addEventListener("input", applyFilter);
    applyFilter();

    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      th.classList.add("mc-sortable");
      th.setAttribute("tabindex", "0");
      th.setAttribute("aria-sort", "none");
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var order = compare(cellText(a, index), cellText(b, index));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".mc-catalog"), enhance);
  }

  // Material's instant navigation swaps pages without a reload and announces it on document$.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(enhanceAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();

// --- Compare pages: pick any two versions of a model ----------------------------------------------------------
// The picker reads the model's versions.json and compares the two versions with the rules of
// modelcards/compare.py, so a picked pair shows what a pre-built page shows. Every value from the data is set
// with textContent or as an attribute value, never parsed as HTML. The pick lives in the URL (#compare=A...B).
(function () {
  "use strict";

  var TOP = 10;  // compare.TOP: features whose ranks are compared

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function number(value) { return String(Number(value.toPrecision(4))); }  // Python's "{:.4g}", near enough
  function signed(value) { return (value >= 0 ? "+" : "") + number(value); }
  function percent(value) { return (value * 100).toFixed(1) + "%"; }

  function summary(count, total, noun) {
    if (total === 0) return "Neither version records " + noun + ".";
    if (count === 0) return "No " + noun + " differ (" + total + " the same).";
    return count + " of " + total + " " + noun + " differ.";
  }

  function table(headers, rows) {
    var body = el("tbody", {}, rows.map(function (row) {
      var cells = row.cells.map(function (cell, index) {
        var content = cell instanceof Node ? cell : document.createTextNode(cell === null ? "—" : String(cell));
        return index === 0 ? el("th", { scope: "row" }, [content]) : el("td", {}, [content]);
      });
      return el("tr", row.differs ? {} : { "class": "mc-same" }, cells);
    }));
    var head = el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { scope: "col" }, [h]); }))]);
    var differs = rows.some(function (row) { return row.differs; });
    return el("div", { "class": "mc-compare-scroll", tabindex: "0" },
              [el("table", { "class": "mc-compare-table" + (differs ? "" : " mc-same") }, [head, body])]);
  }

  function section(parent, title, count, total, noun, content) {
    parent.appendChild(el("h3", {}, [title]));
    parent.appendChild(el("p", {}, [summary(count, total, noun)]));
    if (content) parent.appendChild(content);
  }

  function code(text) { return text === undefined ? null : el("code", {}, [text]); }

  function keyedRows(before, after) {  // compare._rows: the first's keys, then the second's new ones
    var keys = Object.keys(before).concat(Object.keys(after).filter(function (k) { return !(k in before); }));
    return keys.map(function (key) {
      var kind = !(key in after) ? "removed" : !(key in before) ? "added" : before[key] === after[key] ? "same" : "changed";
      var mark = kind === "same" ? "" : el("span", { "class": "mc-change mc-change-" + kind }, [kind]);
      return { differs: kind !== "same", cells: [key, code(before[key]), code(after[key]), mark] };
    });
  }

  function rankedFeatures(before, now) {  // compare.ranked_features
    function index(list) {
      var found = {};
      list.forEach(function (item) { found[item[0]] = { rank: item[1], share: item[2] }; });
      return found;
    }
    var old = index(before), fresh = index(now), seen = {}, rows = [];
    now.slice(0, TOP).concat(before.slice(0, TOP)).forEach(function (item) {
      var feature = item[0];
      if (seen[feature]) return;
      seen[feature] = true;
      rows.push({ feature: feature, before: old[feature] ? old[feature].rank : null,
                  now: fresh[feature] ? fresh[feature].rank : null,
                  shareBefore: old[feature] ? old[feature].share : 0, shareNow: fresh[feature] ? fresh[feature].share : 0 });
    });
    rows.sort(function (a, b) {
      return ((a.now === null) - (b.now === null)) || ((a.now || 0) - (b.now || 0)) || ((a.before || 0) - (b.before || 0));
    });
    return rows;
  }

  function resolve(root, url) { return url === null || url === undefined ? null : root + url; }

  function render(data, root, a, b) {
    var out = el("div", { "class": "mc-compare-picked" });
    out.appendChild(el("h2", {}, ["Version " + a.version + " → " + b.version]));
    var intro = el("p", {}, ["Compares version "]);
    intro.appendChild(el("a", { href: resolve(root, data.model_page) + "#" + a.anchor }, [a.version]));
    intro.appendChild(document.createTextNode(" (" + a.date + ") with version "));
    intro.appendChild(el("a", { href: resolve(root, data.model_page) + "#" + b.anchor }, [b.version]));
    intro.appendChild(document.createTextNode(" (" + b.date + ")."));
    var prebuilt = data.pages[a.version + "..." + b.version];
    if (prebuilt) {
      intro.appendChild(document.createTextNode(" "));
      intro.appendChild(el("a", { href: resolve(root, prebuilt) }, ["Its own page"]));
      intro.appendChild(document.createTextNode(" says why they are compared."));
    }
    out.appendChild(intro);
    out.appendChild(el("p", { "class": "mc-compare-toggle" }, [el("label", {}, [
      el("input", { type: "checkbox", "class": "mc-show-all" }), " Show everything, the rows that are the same too"])]));

    var declared = {}, names = [];
    data.metrics.forEach(function (m) {
      declared[m.name] = m;
      if (m.name in a.metrics || m.name in b.metrics) names.push(m.name);
    });
    Object.keys(a.metrics).concat(Object.keys(b.metrics)).sort().forEach(function (name) {
      if (names.indexOf(name) === -1) names.push(name);
    });
    var metricRows = names.map(function (name) {
      var m = declared[name] || { threshold: null, higher_is_better: true };
      function value(v) {
        if (v === undefined) return null;
        var fails = m.threshold !== null && (m.higher_is_better ? v < m.threshold : v > m.threshold);
        var cell = el("span", {}, [el("span", { "class": "mc-metric-value", "data-value": String(v) }, [number(v)])]);
        if (fails) { cell.appendChild(document.createTextNode(" ")); cell.appendChild(el("strong", { "class": "mc-fails" }, ["fails"])); }
        return cell;
      }
      var before = a.metrics[name], after = b.metrics[name], change = "";
      if (before !== undefined && after !== undefined) {
        var delta = after - before, better = delta === 0 ? null : (delta > 0) === m.higher_is_better;
        change = el("span", {}, [el("span", { "class": "mc-delta" + (better === true ? " mc-better" : better === false ? " mc-worse" : ""),
                                              "data-delta": String(delta) }, [signed(delta)]),
                                 better === null ? "" : better ? " better" : " worse"]);
      }
      var threshold = m.threshold === null ? "" : (m.higher_is_better ? "≥ " : "≤ ") + number(m.threshold);
      return { differs: before !== after, cells: [code(name), value(before), value(after), change, threshold] };
    });
    var count = function (rows) { return rows.filter(function (r) { return r.differs; }).length; };
    section(out, "Metrics", count(metricRows), metricRows.length, "metrics",
            metricRows.length ? table(["Metric", a.version, b.version, "Change", "Threshold"], metricRows) : null);
    var paramRows = keyedRows(a.params, b.params).map(function (row) { row.cells[0] = code(row.cells[0]); return row; });
    section(out, "Params", count(paramRows), paramRows.length, "params",
            paramRows.length ? table(["Param", a.version, b.version, "Change"], paramRows) : null);
    var dataRows = keyedRows(a.data, b.data);
    section(out, "Data", count(dataRows), dataRows.length, "data fields",
            dataRows.length ? table(["Field", a.version, b.version, "Change"], dataRows) : null);
    var codeRows = keyedRows(a.code, b.code);
    section(out, "Code", count(codeRows), codeRows.length, "code fields",
            codeRows.length ? table(["Field", a.version, b.version, "Change"], codeRows) : null);
    if (data.compare_url && a.code.commit && b.code.commit && a.code.commit !== b.code.commit) {
      var url = data.compare_url.replace("__before__", encodeURIComponent(a.code.commit))
                                .replace("__after__", encodeURIComponent(b.code.commit));
      out.appendChild(el("p", {}, [el("a", { href: url }, ["Compare the code of the two commits"]), " in the repository."]));
    }

    out.appendChild(el("h3", {}, ["SHAP ranks"]));
    var labels = Object.keys(b.ranks).filter(function (label) { return label in a.ranks; });
    if (!labels.length) {
      var explained = Object.keys(a.ranks).length || Object.keys(b.ranks).length;
      out.appendChild(el("p", {}, [explained ? "Only one of the two versions is explained, so their feature ranks cannot be compared."
                                             : "Neither version is explained."]));
    }
    labels.forEach(function (label) {
      if (labels.length > 1) out.appendChild(el("h4", {}, ["Output " + label]));
      var rows = rankedFeatures(a.ranks[label], b.ranks[label]).map(function (r) {
        return { differs: r.before !== r.now,
                 cells: [el("span", { "class": "mc-feature" }, [r.feature]), r.before, r.now,
                         percent(r.shareBefore) + " → " + percent(r.shareNow)] };
      });
      out.appendChild(el("p", {}, [summary(count(rows), rows.length, "of the top features' ranks")]));
      out.appendChild(table(["Feature", "Rank in " + a.version, "Rank in " + b.version, "Share of mean |SHAP|"], rows));
    });

    var nodes = a.lineage.concat(b.lineage.filter(function (id) { return a.lineage.indexOf(id) === -1; })).sort();
    var lineageRows = nodes.map(function (id) {
      var node = data.nodes[id], inA = a.lineage.indexOf(id) !== -1, inB = b.lineage.indexOf(id) !== -1;
      var name = node.url === null ? node.label : el("a", { href: resolve(root, node.url) }, [node.label]);
      return { differs: inA !== inB, cells: [name, node.kind.replace(/_/g, " "), inA ? "yes" : null, inB ? "yes" : null] };
    });
    section(out, "Lineage", count(lineageRows), lineageRows.length, "runs, data and deployments",
            lineageRows.length ? table(["Run, data or deployment", "Kind", a.version, b.version], lineageRows) : null);
    return out;
  }

  function picked() {
    var match = /^#compare=(.*)\.\.\.(.*)$/.exec(window.location.hash);
    return match ? [decodeURIComponent(match[1]), decodeURIComponent(match[2])] : null;
  }

  function setUp(picker) {
    if (picker.dataset.mcReady) return;
    picker.dataset.mcReady = "1";
    var root = picker.getAttribute("data-root");
    fetch(picker.getAttribute("data-versions")).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      var versions = data.versions, byLabel = {};
      versions.forEach(function (v) { byLabel[v.version] = v; });
      function select(name, label) {
        return el("select", { name: name, "aria-label": label }, versions.map(function (v) {
          return el("option", { value: v.version }, [v.version + " (" + v.date + ")"]);
        }));
      }
      var before = select("before", "Version A"), after = select("after", "Version B");
      var form = el("form", {}, [el("label", {}, ["Version A ", before]), el("label", {}, ["Version B ", after]),
                                 el("button", { type: "submit", "class": "md-button" }, ["Compare"])]);
      var result = el("div", { "aria-live": "polite" });
      picker.appendChild(form);
      picker.appendChild(result);
      var start = picked();
      if (start && byLabel[start[0]] && byLabel[start[1]]) {
        before.value = start[0]; after.value = start[1];
      } else if (versions.length >= 2) {
        before.value = versions[versions.length - 2].version; after.value = versions[versions.length - 1].version;
      }
      function show() {
        result.replaceChildren(render(data, root, byLabel[before.value], byLabel[after.value]));
      }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        history.replaceState(null, "", "#compare=" + encodeURIComponent(before.value) + "..." + encodeURIComponent(after.value));
        show();
      });
      if (start) show();
    }).catch(function (error) {
      picker.appendChild(el("p", {}, ["The versions could not be loaded (" + error.message + "); the pre-built comparisons still work."]));
    });
  }

  // Where CSS :has() is missing, the "Show everything" checkbox flips a class instead.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("mc-show-all")) return;
    var article = box.closest("article") || document.body;
    article.classList.toggle("mc-compare-all", box.checked);
    Array.prototype.forEach.call(article.querySelectorAll(".mc-show-all"), function (other) { other.checked = box.checked; });
  });

  function setUpAll() { Array.prototype.forEach.call(document.querySelectorAll(".mc-compare-picker"), setUp); }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(setUpAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
