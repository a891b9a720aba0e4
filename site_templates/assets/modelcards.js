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
      if (/^a_mc-legend/.test(link.parentNode.id)) return;
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
      // The library did not load: the SVG file is the full-size view.
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
