// Reports charts: Chart.js (vendored) over the numbers each chart's table also shows.
(function () {
  "use strict";
  if (!window.Chart) return;
  function data(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    return source ? JSON.parse(source.textContent) : [];
  }
  var accent = "#2563eb", muted = "#9aa3b5";
  var builders = {
    trend: function (rows) {
      return { type: "line", data: { labels: rows.map(function (r) { return r.period; }), datasets: [
        { label: "success rate", data: rows.map(function (r) { return r.success_rate === null ? null : r.success_rate * 100; }),
          borderColor: accent, yAxisID: "y" },
        { label: "ROI", data: rows.map(function (r) { return r.roi === null ? null : r.roi * 100; }),
          borderColor: "#176b2c", yAxisID: "y" },
        { label: "contacted", data: rows.map(function (r) { return r.contacted; }), borderColor: muted, yAxisID: "y1" }] },
        options: { scales: { y: { title: { display: true, text: "%" } }, y1: { position: "right", grid: { drawOnChartArea: false } } } } };
    },
    quadrant: function (rows, canvas) {
      var lines = JSON.parse((document.getElementById(canvas.getAttribute("data-lines")) || { textContent: "{}" }).textContent);
      var maxX = Math.max.apply(null, rows.map(function (r) { return r.contacted; }).concat([1]));
      var maxY = Math.max.apply(null, rows.map(function (r) { return (r.success_rate || 0) * 100; }).concat([1]));
      var rate = lines.rate === null || lines.rate === undefined ? null : lines.rate * 100;
      var datasets = [{ label: "channels", backgroundColor: accent,
        data: rows.map(function (r) { return { x: r.contacted, y: r.success_rate === null ? 0 : r.success_rate * 100, label: r.channel }; }) }];
      if (rate !== null) datasets.push({ type: "line", label: "average rate", borderColor: muted, borderDash: [4, 4], pointRadius: 0,
        data: [{ x: 0, y: rate }, { x: maxX, y: rate }] });
      if (lines.volume) datasets.push({ type: "line", label: "median volume", borderColor: muted, borderDash: [4, 4], pointRadius: 0,
        data: [{ x: lines.volume, y: 0 }, { x: lines.volume, y: maxY }] });
      return { type: "scatter", data: { datasets: datasets },
        options: { plugins: { tooltip: { callbacks: { label: function (c) { return (c.raw.label || c.dataset.label) + ": " + c.raw.x + ", " + c.raw.y.toFixed(2) + " %"; } } } },
          scales: { x: { title: { display: true, text: "contacted" } }, y: { title: { display: true, text: "success rate %" } } } } };
    },
    funnel: function (rows) {
      return { type: "bar", data: { labels: rows.map(function (r) { return r.stage; }),
        datasets: [{ label: "customers", data: rows.map(function (r) { return r.count; }), backgroundColor: accent }] },
        options: { indexAxis: "y" } };
    },
    reasons: function (rows) {
      return { type: "bar", data: { labels: rows.map(function (r) { return r.reason; }),
        datasets: [{ label: "declines", data: rows.map(function (r) { return r.count; }), backgroundColor: muted }] } };
    }
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var build = builders[canvas.getAttribute("data-chart")];
    var rows = data(canvas);
    if (build && rows.length) new window.Chart(canvas, build(rows, canvas));
  });
})();
