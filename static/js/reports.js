// Reports charts: Chart.js (vendored) over the numbers each chart's table also shows.
(function () {
  "use strict";
  if (!window.Chart) return;
  window.Chart.defaults.animation = false;  // figures appear as they are, at once (and screenshots show them)
  function data(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    return source ? JSON.parse(source.textContent) : [];
  }
  var accent = "#2563eb", muted = "#9aa3b5";
  // Legends and axes in the page's language (the template passes them translated).
  var labelSource = document.getElementById("chart-labels");
  var L = labelSource ? JSON.parse(labelSource.textContent) : {};
  function t(key, fallback) { return L[key] || fallback; }
  var builders = {
    trend: function (rows) {
      return { type: "line", data: { labels: rows.map(function (r) { return r.period; }), datasets: [
        { label: t("success_rate", "success rate %"), data: rows.map(function (r) { return r.success_rate === null ? null : r.success_rate * 100; }),
          borderColor: accent, yAxisID: "rate" },
        { label: t("roi", "ROI %"), data: rows.map(function (r) { return r.roi === null ? null : r.roi * 100; }),
          borderColor: "#176b2c", yAxisID: "roi" },
        { type: "bar", label: t("contacted", "contacted"), data: rows.map(function (r) { return r.contacted; }),
          backgroundColor: "rgba(154,163,181,.35)", yAxisID: "volume" }] },
        // Success rate and ROI on axes of their own: ROI runs to hundreds of percent, a rate to tens.
        options: { scales: {
          rate: { position: "left", title: { display: true, text: t("success_rate", "success rate %") } },
          roi: { position: "right", title: { display: true, text: t("roi", "ROI %") }, grid: { drawOnChartArea: false } },
          volume: { position: "right", title: { display: true, text: t("contacted", "contacted") }, grid: { drawOnChartArea: false } } } } };
    },
    quadrant: function (rows, canvas) {
      var lines = JSON.parse((document.getElementById(canvas.getAttribute("data-lines")) || { textContent: "{}" }).textContent);
      var maxX = Math.max.apply(null, rows.map(function (r) { return r.contacted; }).concat([1]));
      var maxY = Math.max.apply(null, rows.map(function (r) { return (r.success_rate || 0) * 100; }).concat([1]));
      var rate = lines.rate === null || lines.rate === undefined ? null : lines.rate * 100;
      var datasets = [{ label: t("channels", "channels"), backgroundColor: accent,
        data: rows.map(function (r) { return { x: r.contacted, y: r.success_rate === null ? 0 : r.success_rate * 100, label: r.channel }; }) }];
      if (rate !== null) datasets.push({ type: "line", label: t("average_rate", "average rate"), borderColor: muted, borderDash: [4, 4], pointRadius: 0,
        data: [{ x: 0, y: rate }, { x: maxX, y: rate }] });
      if (lines.volume) datasets.push({ type: "line", label: t("median_volume", "median volume"), borderColor: muted, borderDash: [4, 4], pointRadius: 0,
        data: [{ x: lines.volume, y: 0 }, { x: lines.volume, y: maxY }] });
      return { type: "scatter", data: { datasets: datasets },
        options: { plugins: { tooltip: { callbacks: { label: function (c) { return (c.raw.label || c.dataset.label) + ": " + c.raw.x + ", " + c.raw.y.toFixed(2) + " %"; } } } },
          scales: { x: { title: { display: true, text: t("contacted", "contacted") } }, y: { title: { display: true, text: t("success_rate", "success rate %") } } } } };
    },
    days: function (rows) {
      // A campaign's progress: outcomes logged per day (bars) and the running total converted (line).
      var total = 0;
      return { type: "bar", data: { labels: rows.map(function (r) { return r.day; }), datasets: [
        { label: t("outcomes", "outcomes logged"), data: rows.map(function (r) { return r.outcomes; }),
          backgroundColor: "rgba(37,99,235,.35)", yAxisID: "daily" },
        { type: "line", label: t("converted_total", "converted, total"),
          data: rows.map(function (r) { total += r.converted; return total; }), borderColor: "#176b2c", yAxisID: "total" }] },
        options: { scales: { daily: { position: "left", title: { display: true, text: t("outcomes", "outcomes logged") } },
          total: { position: "right", title: { display: true, text: t("converted_total", "converted, total") },
                   grid: { drawOnChartArea: false } } } } };
    },
    funnel: function (rows) {
      return { type: "bar", data: { labels: rows.map(function (r) { return r.stage; }),
        datasets: [{ label: t("customers", "customers"), data: rows.map(function (r) { return r.count; }), backgroundColor: accent }] },
        options: { indexAxis: "y" } };
    },
    reasons: function (rows) {
      return { type: "bar", data: { labels: rows.map(function (r) { return r.reason; }),
        datasets: [{ label: t("declines", "declines"), data: rows.map(function (r) { return r.count; }), backgroundColor: muted }] } };
    }
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var build = builders[canvas.getAttribute("data-chart")];
    var rows = data(canvas);
    if (build && rows.length) new window.Chart(canvas, build(rows, canvas));
  });
})();
