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
