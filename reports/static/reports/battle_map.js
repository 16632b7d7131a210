// The battle map's 打印 button: the browser's print, which the page's print CSS lays out as
// an A3 landscape wall chart. Kept out of the markup for the Content-Security-Policy.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (!button) return;
  event.preventDefault();
  window.print();
});

// On a phone the filters start folded under their 筛选 button, unless some are in use; at a
// desk (and without JavaScript) they stay open.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.matchMedia("(max-width: 700px)").matches) return;
  document.querySelectorAll("details[data-phone-closed]:not([data-keep-open])").forEach(function (box) {
    box.open = false;
  });
});
