// Small behaviours for the pages, kept out of the markup so the Content-Security-Policy
// can forbid inline script. Every page still works without them.
document.addEventListener("click", function (event) {
  // A "cancel" link inside a sheet (<details>) closes the sheet instead of reloading.
  var link = event.target.closest("[data-close-details]");
  if (!link) return;
  var details = link.closest("details");
  if (!details) return;
  event.preventDefault();
  details.open = false;
});
