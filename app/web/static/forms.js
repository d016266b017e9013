// Form behaviour the pages ask for by attribute, so that no page needs inline script:
// <form data-confirm="…"> asks before it is sent; <input type="file" data-autosubmit> sends
// its form as soon as a photo is chosen.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  document.querySelectorAll("input[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.files && input.files.length) input.form.submit();
    });
  });
})();
