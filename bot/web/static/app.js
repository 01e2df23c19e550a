// Progressive enhancement only: the form works without this file (a GET form; its URL is the permalink).
// This adds name suggestions while typing and shows a changed result without reloading the page.
"use strict";
(function () {
  document.documentElement.dataset.js = "on";
  const form = document.getElementById("size-form");
  if (!form) return;

  function debounce(fn, ms) {
    let timer;
    return function (...args) { clearTimeout(timer); timer = setTimeout(() => fn.apply(this, args), ms); };
  }

  function autocomplete(inputId, listId, endpoint) {
    const input = document.getElementById(inputId);
    const list = document.getElementById(listId);
    input.addEventListener("input", debounce(async () => {
      const q = input.value.trim();
      if (!q) return;
      const response = await fetch(`${endpoint}?limit=8&q=${encodeURIComponent(q)}`);
      if (!response.ok) return;
      list.replaceChildren(...(await response.json()).map((match) => {
        const option = document.createElement("option");
        option.value = match.id;
        option.label = `${match.name} (${match.detail})`;
        return option;
      }));
    }, 150));
  }
  autocomplete("model", "model-options", "/api/v1/catalog/models");
  autocomplete("gpu", "gpu-options", "/api/v1/catalog/hardware");

  // the query the form would submit, without empty fields
  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (String(value).trim()) params.append(key, value);
    return params.toString();
  }

  let latest = 0;
  async function update(push) {
    if (!form.checkValidity()) return;
    const url = `/?${query()}`;
    const ticket = ++latest;
    const response = await fetch(url, { headers: { Accept: "text/html" } });
    if (ticket !== latest) return;          // a newer change is on its way
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("result");
    if (!fresh) { window.location.assign(url); return; }
    document.getElementById("result").replaceWith(document.importNode(fresh, true));
    document.title = page.title;
    if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); update(true); });
  form.addEventListener("change", (event) => {
    if (event.target.matches("select, input[type=number]")) update(true);
  });
  window.addEventListener("popstate", () => window.location.reload());
})();
