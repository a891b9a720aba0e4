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
