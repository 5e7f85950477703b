// Served from the console itself (the Content-Security-Policy allows no inline script): confirmations for actions,
// and reloading a page that follows something still running (an element with data-refresh="<seconds>").
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", () => {
  const refreshing = document.querySelector("[data-refresh]");
  if (!refreshing) return;
  const seconds = Number(refreshing.getAttribute("data-refresh"));
  if (Number.isFinite(seconds) && seconds >= 1) {
    window.setTimeout(() => window.location.reload(), seconds * 1000);
  }
});
