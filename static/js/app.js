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
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-bulk-form]")) return;
    var ids = Array.prototype.map.call(document.querySelectorAll('input[name="selected"]:checked'), function (box) { return box.value; });
    form.querySelector("[data-bulk-ids]").value = ids.join(",");
  });
})();
