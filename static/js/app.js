// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Language picker: submit on change.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });

  // Customer list: "select all" checkbox and carrying selected ids into the bulk form.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="selected"]').forEach(function (box) { box.checked = event.target.checked; });
    }
  });
  // Forms that cannot be undone ask first (cancel/complete a campaign).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-bulk-form]")) return;
    var ids = Array.prototype.map.call(document.querySelectorAll('input[name="selected"]:checked'), function (box) { return box.value; });
    form.querySelector("[data-bulk-ids]").value = ids.join(",");
  });
})();

// Bars: widths come from data-width (percent) because inline styles are blocked by the CSP.
(function () {
  "use strict";
  function sizeBars(root) {
    (root || document).querySelectorAll("[data-width]").forEach(function (bar) {
      var width = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-width")) || 0));
      bar.style.width = width + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { sizeBars(document); });
  document.addEventListener("htmx:afterSwap", function (event) { sizeBars(event.target); });
  // Enter in a builder "add" box presses its button instead of submitting the whole form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-fragment]")) {
      event.preventDefault();
      event.target.nextElementSibling.click();
    }
  });
})();
