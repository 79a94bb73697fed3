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

// Work view: keyboard-only outcome logging. j/k or arrows move, 1–8 pick the result,
// Enter saves (the server answers with the next task's panel).
(function () {
  "use strict";
  function workspace() { return document.querySelector("[data-workspace]"); }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-task-row]")); }
  function typing(target) {
    return target.matches("textarea, select, input:not([type=radio]):not([type=checkbox])");
  }
  function markCurrent(id) {
    rows().forEach(function (row) {
      var current = row.getAttribute("data-task-id") === String(id);
      row.classList.toggle("current", current);
      if (current) row.scrollIntoView({ block: "nearest" });
    });
  }
  function move(delta) {
    var list = rows();
    if (!list.length) return;
    var index = list.findIndex(function (row) { return row.classList.contains("current"); });
    var next = list[Math.max(0, Math.min(list.length - 1, index + delta))];
    if (!next || next === list[index]) return;
    markCurrent(next.getAttribute("data-task-id"));
    window.htmx.ajax("GET", next.getAttribute("data-url"), { target: "#task-panel" });
  }
  document.addEventListener("keydown", function (event) {
    if (document.querySelector("[data-start-work]") && event.key === "w" && !typing(event.target)) {
      window.location = document.querySelector("[data-start-work]").href;
      return;
    }
    if (!workspace() || event.ctrlKey || event.metaKey || event.altKey) return;
    var form = document.querySelector("[data-outcome-form]");
    if (event.key === "Enter") {
      if (!form || event.target.matches("textarea, button, a")) return;
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    var reason = form && form.querySelector('select[name="failure_reason"]');
    if (reason && event.target === reason && /^[1-9]$/.test(event.key)) {
      // 1–9 pick the nth reason (the first option is the empty "— reason —").
      var option = reason.options[parseInt(event.key, 10)];
      if (option) { event.preventDefault(); reason.value = option.value; reason.dispatchEvent(new Event("change", { bubbles: true })); }
      return;
    }
    if (typing(event.target)) return;
    if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); return; }
    if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); return; }
    if (form && /^[1-9]$/.test(event.key)) {
      var radio = form.querySelector('input[data-key="' + event.key + '"]');
      if (radio) {
        event.preventDefault();
        radio.checked = true;
        // A result that needs a reason takes the keyboard there, not back to the page (where 40
        // Tabs walked the task list); the others keep it on the result, ready for Enter.
        if (radio.hasAttribute("data-needs-reason") && reason) reason.focus(); else radio.focus();
      }
    }
  });
  document.addEventListener("change", function (event) {
    if (!workspace() || !event.target.matches("input[data-needs-reason]")) return;
    var reason = event.target.form.querySelector('select[name="failure_reason"]');
    if (reason) reason.focus();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!workspace() || event.target.id !== "task-panel") return;
    var panel = event.target.querySelector("[data-panel]");
    if (!panel) return;
    // Process the new form now, not after htmx's settle delay: a fast typist presses Enter sooner.
    window.htmx.process(event.target);
    var saved = panel.getAttribute("data-saved-task");
    if (saved) {
      var row = document.getElementById("row-" + saved);
      if (row) {
        row.classList.add("done");
        row.querySelector(".state").textContent = panel.getAttribute("data-saved-status");
      }
    }
    if (panel.getAttribute("data-current-task")) markCurrent(panel.getAttribute("data-current-task"));
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  });
})();

// Audience builder: tag suggestions while typing an expression. The word at the caret is matched
// against the tag slugs (the page's #tag-slugs list); ↓/↑ choose, Enter or Tab insert, Esc closes.
(function () {
  "use strict";
  var KEYWORDS = ["AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL"];
  var box = null, choices = [], active = -1;

  function slugs() {
    var list = document.getElementById("tag-slugs");
    return list ? Array.prototype.map.call(list.options, function (option) { return option.value; }) : [];
  }
  function wordAt(area) {
    var before = area.value.slice(0, area.selectionStart);
    var match = /[a-z0-9_-]+$/i.exec(before);
    return match ? { text: match[0], start: before.length - match[0].length, end: area.selectionStart } : null;
  }
  function close() { if (box) box.remove(); box = null; choices = []; active = -1; }
  function show(area) {
    var word = wordAt(area);
    if (!word || word.text.length < 1 || KEYWORDS.indexOf(word.text.toUpperCase()) >= 0) return close();
    var needle = word.text.toLowerCase();
    var all = slugs();
    choices = all.filter(function (slug) { return slug.indexOf(needle) === 0 && slug !== needle; })
      .concat(all.filter(function (slug) { return slug.indexOf(needle) > 0; })).slice(0, 8);
    if (!choices.length) return close();
    if (!box) {
      box = document.createElement("ul");
      box.className = "suggestions";
      box.setAttribute("role", "listbox");
      box.setAttribute("data-tag-suggestions", "");
      area.insertAdjacentElement("afterend", box);
    }
    box.innerHTML = "";
    choices.forEach(function (slug, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.textContent = slug;
      item.addEventListener("mousedown", function (event) { event.preventDefault(); insert(area, index); });
      box.appendChild(item);
    });
    active = Math.min(Math.max(active, 0), choices.length - 1);
    mark();
  }
  function mark() {
    if (!box) return;
    Array.prototype.forEach.call(box.children, function (item, index) {
      item.classList.toggle("active", index === active);
      item.setAttribute("aria-selected", index === active ? "true" : "false");
    });
  }
  function insert(area, index) {
    var word = wordAt(area);
    if (!word || !choices[index]) return close();
    var slug = choices[index];
    area.value = area.value.slice(0, word.start) + slug + area.value.slice(word.end);
    var caret = word.start + slug.length;
    area.setSelectionRange(caret, caret);
    close();
    area.dispatchEvent(new Event("input", { bubbles: true }));  // the live count follows
  }
  document.addEventListener("input", function (event) {
    if (event.target.id === "id_text" && document.getElementById("tag-slugs")) show(event.target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.target.id !== "id_text" || !box) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
      mark();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      insert(event.target, active);
    } else if (event.key === "Escape") {
      close();
    }
  });
  document.addEventListener("focusout", function (event) { if (event.target.id === "id_text") close(); });
})();
