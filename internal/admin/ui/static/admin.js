// Small enhancements of the admin's pages; every page works without them.
(function () {
  "use strict";

  // The list: select every record of the page, and say how many are.
  var form = document.getElementById("changelist-form");
  var all = document.getElementById("select-all");
  if (form && all) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="_selected_action"]'));
    var count = document.getElementById("selected-count");
    var update = function () {
      var n = 0;
      boxes.forEach(function (b) {
        if (b.checked) n++;
        b.closest("tr").classList.toggle("chosen", b.checked);
      });
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
      count.textContent = n ? n + " of " + boxes.length + " selected" : "";
    };
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  // On a phone the filters start folded, below the search.
  var filters = document.getElementById("filters");
  if (filters && window.matchMedia("(max-width: 900px)").matches) {
    filters.open = false;
  }

  // Times are shown in UTC; hovering one tells it in the browser's zone.
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d) && !t.title) {
      t.title = d.toLocaleString() + " (your time)";
    }
  });
})();
