// Nexus script: small niceties only; every page works without it.
"use strict";

// A button with data-confirm asks before its form is sent (deletes).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A form sent once cannot be sent again by a second tap while the page loads.
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented || event.target.method === "get") {
    return;
  }
  const form = event.target;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
});

// A page restored by the back button may be sent again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sending]")) {
    delete form.dataset.sending;
  }
});

// Keep the first invalid field in view after a refused form.
document.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus();
  }
});
