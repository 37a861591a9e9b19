// The intake form's photo count, checked as soon as photos are chosen (the server checks again).
// Served from 'self' under the strict CSP: no inline script, no eval.
(function () {
  "use strict";

  function tooMany(input) {
    var max = parseInt(input.getAttribute("data-max-photos"), 10);
    var kept = input.form ? input.form.querySelectorAll('input[name="keep"]:checked').length : 0;
    var count = (input.files ? input.files.length : 0) + kept;
    // the page's own words for it, in the tenant's language, with {count} left to fill in
    var words = input.getAttribute("data-too-many") ||
      "Attach at most " + max + " photos (you chose {count}).";
    return count > max ? words.replace("{count}", count) : "";
  }

  function show(input) {
    var problem = tooMany(input);
    var message = document.getElementById(input.id + "-msg");
    if (message && (problem || input.hasAttribute("data-count-shown"))) {
      message.textContent = problem;
      message.classList.toggle("error", !!problem);
    }
    input.toggleAttribute("data-count-shown", !!problem);
    if (problem) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
    return problem;
  }

  function photosOf(form) {
    return form && form.querySelector('input[type="file"][data-max-photos]');
  }

  document.addEventListener("change", function (event) {
    var input = photosOf(event.target.form);
    if (input && (event.target === input || event.target.name === "keep")) {
      show(input);
    }
  });

  document.addEventListener("submit", function (event) {
    var input = photosOf(event.target);
    if (input && show(input)) {
      event.preventDefault();
      input.focus();
    }
  }, true);
})();
