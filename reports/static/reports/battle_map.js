// The battle map's 打印 button: the browser's print, which the page's print CSS lays out as
// an A3 landscape wall chart. Kept out of the markup for the Content-Security-Policy.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (!button) return;
  event.preventDefault();
  window.print();
});
