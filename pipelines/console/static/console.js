// The console's only script (served from the console itself; pages work without it).
// A live launch needs the campaign id typed as confirmation: keep the launch button disabled until it matches.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("launch-form");
  if (!form) return;
  const live = document.getElementById("mode-live");
  const confirm = document.getElementById("confirm");
  const button = document.getElementById("launch");
  const expected = confirm ? confirm.getAttribute("placeholder") : "";
  const update = () => {
    button.disabled = Boolean(live && live.checked && confirm.value.trim() !== expected);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
});
