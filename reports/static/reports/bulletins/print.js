// The 打印 button of a bulletin: shown only where script runs, prints the page (A4, see
// bulletin.css). Kept out of the markup so the Content-Security-Policy forbids inline script.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
