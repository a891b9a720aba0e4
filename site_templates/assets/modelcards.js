// Filter and sort for modelcards catalog tables. Self-hosted; no dependencies.
// Every table in a .mc-catalog box gets a filter box and sortable headings. The model catalog (.mc-faceted)
// also has facets: lists of values with counts, made at build time, that become checkboxes here (any value
// ticked within a facet, every facet with a tick). Its filter lives in the page's query string
// (?risk=high&env=production&text=fraud), so a filtered view is a link and survives a reload.
(function () {
  "use strict";

  var TEXT_PARAM = "text";  // not "q": Material's search reads that one

  function sortKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    // data-sort orders by meaning where the text would sort wrongly (risk tiers by severity).
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) === a.split(" ")[0] && String(y) === b.split(" ")[0]) {
      return x - y;
    }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  // The facet lists become checkboxes; each row's values come from its data-facets code.
  function readFacets(container, rows) {
    var facets = Array.prototype.map.call(container.querySelectorAll(".mc-facet[data-facet]"), function (fieldset) {
      var key = fieldset.getAttribute("data-facet");
      var items = Array.prototype.map.call(fieldset.querySelectorAll("li[data-value]"), function (li) {
        var label = document.createElement("label");
        var input = document.createElement("input");
        input.type = "checkbox";
        input.name = key;
        input.value = li.getAttribute("data-value");
        label.appendChild(input);
        while (li.firstChild) label.appendChild(li.firstChild);  // the value's own text and count, as built
        li.appendChild(label);
        return { value: input.value, input: input, li: li, count: label.querySelector(".mc-facet-count") };
      });
      return { key: key, items: items };
    });
    rows.forEach(function (row) {
      // data-facets: per facet, "|" between them, the positions of the row's values in its list, "," between.
      var codes = (row.getAttribute("data-facets") || "").split("|");
      row.mcValues = {};
      facets.forEach(function (facet, index) {
        row.mcValues[facet.key] = (codes[index] || "").split(",").filter(Boolean).map(function (position) {
          var item = facet.items[Number(position)];
          return item ? item.value : null;
        });
      });
      row.mcText = row.textContent.toLowerCase();
    });
    return facets;
  }

  function enhance(container) {
    var table = container.querySelector("table");
    if (!table || container.dataset.mcReady) return;
    container.dataset.mcReady = "1";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var faceted = container.classList.contains("mc-faceted");
    var facets = faceted ? readFacets(container, rows) : [];

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
    var clear = null;
    if (faceted) {
      clear = document.createElement("button");
      clear.type = "button";
      clear.className = "mc-clear md-button";
      clear.textContent = "Clear filters";
      controls.appendChild(clear);
    }
    container.insertBefore(controls, container.firstChild);

    function selection() {
      var chosen = {};
      facets.forEach(function (facet) {
        chosen[facet.key] = facet.items.filter(function (item) { return item.input.checked; })
          .map(function (item) { return item.value; });
      });
      return chosen;
    }

    function restoreFromUrl() {
      var params = new URLSearchParams(window.location.search);
      input.value = params.get(TEXT_PARAM) || "";
      facets.forEach(function (facet) {
        var wanted = params.getAll(facet.key);
        facet.items.forEach(function (item) { item.input.checked = wanted.indexOf(item.value) !== -1; });
      });
    }

    function saveToUrl(chosen) {
      var params = new URLSearchParams(window.location.search);
      facets.forEach(function (facet) {
        params.delete(facet.key);
        chosen[facet.key].forEach(function (value) { params.append(facet.key, value); });
      });
      params.delete(TEXT_PARAM);
      if (input.value.trim()) params.set(TEXT_PARAM, input.value.trim());
      var query = params.toString();
      var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
      if (url !== window.location.pathname + window.location.search + window.location.hash) {
        window.history.replaceState(window.history.state, "", url);
      }
    }

    function applyFilter() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var chosen = selection();
      var counts = {};
      facets.forEach(function (facet) { counts[facet.key] = {}; });
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.mcText || row.textContent.toLowerCase();
        var textMatches = words.every(function (w) { return text.indexOf(w) !== -1; });
        var missed = facets.filter(function (facet) {
          var wanted = chosen[facet.key];
          return wanted.length && !row.mcValues[facet.key].some(function (v) { return wanted.indexOf(v) !== -1; });
        });
        var match = textMatches && missed.length === 0;
        row.hidden = !match;
        if (match) shown += 1;
        // A value's count: the rows it would show, given the text and every other facet's choice.
        if (!textMatches || missed.length > 1) return;
        facets.forEach(function (facet) {
          if (missed.length === 1 && missed[0] !== facet) return;
          row.mcValues[facet.key].forEach(function (v) { counts[facet.key][v] = (counts[facet.key][v] || 0) + 1; });
        });
      });
      facets.forEach(function (facet) {
        facet.items.forEach(function (item) {
          var n = counts[facet.key][item.value] || 0;
          if (item.count) item.count.textContent = "(" + n + ")";
          item.li.classList.toggle("mc-facet-empty", n === 0 && !item.input.checked);
        });
      });
      count.textContent = shown + " of " + rows.length + " shown";
      if (faceted) saveToUrl(chosen);
    }

    if (faceted) {
      restoreFromUrl();
      container.addEventListener("change", function (event) {
        if (event.target.type === "checkbox") applyFilter();
      });
      clear.addEventListener("click", function () {
        input.value = "";
        facets.forEach(function (facet) { facet.items.forEach(function (item) { item.input.checked = false; }); });
        applyFilter();
      });
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
          var order = compare(sortKey(a, index), sortKey(b, index));
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

// --- Wide tables (chrome helper): Material wraps each table in a horizontally scrolling .md-typeset__scrollwrap,
// which a keyboard user cannot reach. Each becomes a focusable, named region (arrow keys then scroll it),
// named after the table's caption, else its first header cell.
(function () {
  "use strict";

  function regionName(wrap) {
    var table = wrap.querySelector("table");
    var caption = table && table.caption ? table.caption.textContent.trim() : "";
    var header = table ? table.querySelector("th") : null;
    var first = header ? header.textContent.trim() : "";
    return "Table" + (caption ? ": " + caption : first ? ": " + first : "");
  }

  function makeFocusable() {
    Array.prototype.forEach.call(document.querySelectorAll(".md-typeset__scrollwrap"), function (wrap) {
      if (wrap.hasAttribute("tabindex")) { return; }
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", regionName(wrap));
    });
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(makeFocusable);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", makeFocusable);
  } else {
    makeFocusable();
  }
})();

// --- Compare pages: pick any two versions of a model ----------------------------------------------------------
// The picker reads the model's versions.json and compares the two versions with the rules of
// modelcards/compare.py, so a picked pair shows what a pre-built comparison shows. Every value from the data is set
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
      intro.appendChild(el("a", { href: resolve(root, prebuilt) }, ["Its pre-built comparison"]));
      intro.appendChild(document.createTextNode(" above says why they are compared."));
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
      // A pick pasted or linked while the page is open changes only the hash: show it too.
      window.addEventListener("hashchange", function () {
        var pick = picked();
        if (!picker.isConnected || !pick || !byLabel[pick[0]] || !byLabel[pick[1]]) return;
        before.value = pick[0]; after.value = pick[1];
        show();
      });
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

// --- Lineage diagrams (issue 12, diagrams): node details on tap and keyboard focus, and the full-size view
// with pan and zoom (svg-pan-zoom, vendored in vendor/ and loaded only when a reader opens the view).
(function () {
  "use strict";

  var XLINK = "http://www.w3.org/1999/xlink";
  // The vendored library sits beside this script, wherever the site is served.
  var here = document.currentScript ? document.currentScript.src : "";
  var panZoomUrl = here ? new URL("vendor/svg-pan-zoom.min.js", here).href : null;
  var panZoomLoading = null;
  var lastPointer = "mouse";

  function loadPanZoom() {
    if (window.svgPanZoom) return Promise.resolve(window.svgPanZoom);
    if (!panZoomLoading) {
      panZoomLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = panZoomUrl;
        script.onload = function () { resolve(window.svgPanZoom); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return panZoomLoading;
  }

  // A node's <a>: Graphviz writes its tooltip (the node's details) as xlink:title, its page as xlink:href.
  function nodeLink(target) {
    var node = target.closest && target.closest("g.node");
    if (!node || /^mc-legend/.test(node.id)) return null;
    return node.querySelector("a");
  }

  function showDetails(panel, link) {
    var lines = (link.getAttributeNS(XLINK, "title") || link.getAttribute("title") || "").split("\n");
    panel.textContent = "";
    var heading = document.createElement("strong");
    heading.textContent = lines[0];
    panel.appendChild(heading);
    lines.slice(1).forEach(function (line) {
      panel.appendChild(document.createElement("br"));
      panel.appendChild(document.createTextNode(line));
    });
    var href = link.getAttributeNS(XLINK, "href") || link.getAttribute("href");
    if (href) {
      var open = document.createElement("a");
      // Relative to the page, as in the inline SVG.
      open.href = href;
      open.textContent = "Open its page";
      panel.appendChild(document.createElement("br"));
      panel.appendChild(open);
    }
    panel.hidden = false;
  }

  function enhanceDiagram(container) {
    if (container.dataset.mcReady) return;
    container.dataset.mcReady = "1";
    var panel = container.nextElementSibling;
    if (!panel || !panel.classList.contains("mc-node-details")) return;
    var tapped = null;  // the box tapped last: a second tap on it follows its link
    // Nodes without a page still carry details: make them reachable by keyboard too.
    Array.prototype.forEach.call(container.querySelectorAll("g.node > g > a"), function (link) {
      if (/^mc-legend/.test(link.closest("g.node").id)) return;
      if (!link.hasAttributeNS(XLINK, "href") && !link.hasAttribute("href")) {
        link.setAttribute("tabindex", "0");
        link.setAttribute("role", "button");
        link.setAttribute("aria-label", (link.getAttributeNS(XLINK, "title") || "").replace(/\n/g, "; "));
      }
    });
    container.addEventListener("pointerdown", function (event) { lastPointer = event.pointerType; });
    container.addEventListener("focusin", function (event) {
      var link = nodeLink(event.target);
      if (link) showDetails(panel, link);
    });
    container.addEventListener("click", function (event) {
      var link = nodeLink(event.target);
      if (!link) return;
      // On touch there is no hover: a first tap shows the details, a second tap on the same box follows it.
      if (lastPointer !== "mouse" && tapped !== link) {
        event.preventDefault();
        tapped = link;
        showDetails(panel, link);
        return;
      }
      tapped = link;
    });
  }

  // The full-size view: a modal <dialog> holding a copy of the diagram, with zoom buttons and keys.
  function openFullSize(link, container) {
    var svg = container.querySelector("svg");
    if (!svg || !panZoomUrl || typeof HTMLDialogElement === "undefined") return false;
    var dialog = document.createElement("dialog");
    dialog.className = "mc-lineage-dialog";
    var title = svg.querySelector("title");
    dialog.setAttribute("aria-label", (title ? title.textContent : "Diagram") + ", full size");
    var bar = document.createElement("div");
    bar.className = "mc-lineage-dialog-bar";
    var stage = document.createElement("div");
    stage.className = "mc-lineage-stage";
    stage.tabIndex = 0;
    stage.setAttribute("role", "region");
    stage.setAttribute("aria-label", "Diagram: drag to pan, wheel or + and - to zoom, arrow keys to move");
    var copy = svg.cloneNode(true);
    // The copy lives on the same page as the original: no duplicate ids.
    Array.prototype.forEach.call(copy.querySelectorAll("[id]"), function (el) { el.removeAttribute("id"); });
    copy.removeAttribute("aria-labelledby");
    copy.removeAttribute("aria-describedby");
    copy.setAttribute("aria-label", title ? title.textContent : "Diagram");
    copy.setAttribute("width", "100%");
    copy.setAttribute("height", "100%");
    stage.appendChild(copy);
    dialog.appendChild(bar);
    dialog.appendChild(stage);
    document.body.appendChild(dialog);
    dialog.addEventListener("close", function () { dialog.remove(); link.focus(); });
    dialog.showModal();

    function button(label, text, action) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "md-button";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", action);
      bar.appendChild(b);
      return b;
    }

    loadPanZoom().then(function (svgPanZoom) {
      var zoom = svgPanZoom(copy, { zoomScaleSensitivity: 0.3, minZoom: 0.1, maxZoom: 20, fit: true, center: true,
                                    dblClickZoomEnabled: true, controlIconsEnabled: false });
      button("Zoom in", "+", function () { zoom.zoomIn(); });
      button("Zoom out", "\u2212", function () { zoom.zoomOut(); });
      button("Fit to the window", "Fit", function () { zoom.resetZoom(); zoom.center(); });
      stage.addEventListener("keydown", function (event) {
        var moves = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
        if (event.key === "+" || event.key === "=") zoom.zoomIn();
        else if (event.key === "-") zoom.zoomOut();
        else if (event.key === "0") { zoom.resetZoom(); zoom.center(); }
        else if (moves[event.key]) zoom.panBy({ x: moves[event.key][0], y: moves[event.key][1] });
        else return;
        event.preventDefault();
      });
      dialog.mcPanZoom = zoom;  // for tests and the curious
      button("Close the full-size view", "Close", function () { dialog.close(); }).focus();
    }, function () {
      // The library did not load: the link's own target, the diagram laid over the window by CSS.
      dialog.close();
      window.location.href = link.href;
    });
    return true;
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".mc-lineage"), enhanceDiagram);
    Array.prototype.forEach.call(document.querySelectorAll("a.mc-lineage-full"), function (link) {
      if (link.dataset.mcReady) return;
      link.dataset.mcReady = "1";
      var paragraph = link.closest("p");
      var container = paragraph && paragraph.nextElementSibling;
      if (!container || !container.classList.contains("mc-lineage")) return;
      link.setAttribute("aria-haspopup", "dialog");
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        if (openFullSize(link, container)) event.preventDefault();
      });
    });
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(enhanceAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();
