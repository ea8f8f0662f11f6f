// ECIF review app: keyboard shortcuts and small helpers (no inline script: CSP).
(function () {
  "use strict";
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  // An element with data-key="x" is clicked (or focused, for fields) when x is pressed.
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (typing(ev.target)) return;
    var key = ev.key === "?" ? "?" : ev.key.toLowerCase();
    var target = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (!target || target.disabled) return;
    ev.preventDefault();
    if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") {
      target.focus();
    } else {
      target.click();
    }
  });
  // Ctrl+Enter in a text area submits its form.
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && ev.target.tagName === "TEXTAREA") {
      var form = ev.target.form;
      if (form) { ev.preventDefault(); form.requestSubmit(); }
    }
  });
  // Forms asking for confirmation.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
  // Select-all checkbox.
  document.addEventListener("change", function (ev) {
    var name = ev.target.getAttribute("data-select-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) {
      c.checked = ev.target.checked;
    });
  });
})();
