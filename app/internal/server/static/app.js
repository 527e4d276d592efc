"use strict";

const list = document.getElementById("tasks");
const form = document.getElementById("add");
const input = document.getElementById("name");
const errorBox = document.getElementById("error");

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { msg = (await res.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.status === 204 ? null : res.json();
}

function render(tasks) {
  list.replaceChildren(...tasks.map((t) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = t.name; // textContent, never innerHTML: names are user input
    const del = document.createElement("button");
    del.textContent = "Delete";
    del.addEventListener("click", () => run(() => api("DELETE", "/tasks/" + t.id)));
    li.append(name, del);
    li.dataset.id = t.id;
    return li;
  }));
}

async function refresh() {
  render(await api("GET", "/tasks"));
}

async function run(action) {
  errorBox.textContent = "";
  try {
    await action();
    await refresh();
  } catch (e) {
    errorBox.textContent = e.message;
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(async () => {
    await api("PUT", "/tasks", { name: input.value });
    input.value = "";
  });
});

run(async () => {});
