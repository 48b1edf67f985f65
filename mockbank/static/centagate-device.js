// The simulated CENTAGATE app refreshes itself: a new challenge appears, a used or expired one
// leaves. It checks the page every few seconds and reloads only when the list has changed.
"use strict";

(() => {
  const POLL_MS = 3000;
  const main = document.querySelector("main[data-fingerprint]");
  if (!main) return;
  const here = location.pathname;
  async function check() {
    try {
      const response = await fetch(here, { cache: "no-store", credentials: "same-origin" });
      const html = await response.text();
      const page = new DOMParser().parseFromString(html, "text/html");
      const fresh = page.querySelector("main[data-fingerprint]");
      if (fresh && fresh.dataset.fingerprint !== main.dataset.fingerprint) {
        location.replace(here);
        return;
      }
    } catch (error) {
      // the server may be restarting: try again on the next tick
    }
    setTimeout(check, POLL_MS);
  }
  setTimeout(check, POLL_MS);
})();
