// The mock's console: reads the admin API (/__mock/...) and shows it. Everything is
// rendered with textContent, never innerHTML: journal entries hold what clients sent.
"use strict";

const TOKEN_KEY = "mudbase-mock-admin-token";
const POLL_MS = 1000;
const JOURNAL_ROWS = 100;

function adminHeaders(extra) {
  const headers = Object.assign({}, extra);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  return headers;
}

async function admin(method, path) {
  const init = { method, headers: adminHeaders(method === "GET" ? {} : { "Content-Type": "application/json" }) };
  if (method !== "GET") init.body = "{}";
  const response = await fetch("/__mock/" + path, init);
  const body = await response.json();
  if (!response.ok) throw new Error(response.status + " " + (body.details || body.error || ""));
  return body;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : element("td", cell));
  return tr;
}

function showStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

function renderJournal(entries) {
  const body = document.querySelector("#journal tbody");
  body.replaceChildren();
  if (entries.length === 0) {
    const td = element("td", "No requests yet", "empty");
    td.colSpan = 8;
    body.appendChild(row([td]));
  }
  for (const entry of entries) {
    const status = entry.fault
      ? element("td", entry.fault, "fault")
      : element("td", entry.status, "status-" + String(entry.status)[0]);
    const time = entry.time.slice(11, 23);
    const tr = row([entry.id, time, entry.method, entry.path, entry.operationId || "", entry.caller || "", status,
      entry.durationMs.toFixed(1)]);
    tr.dataset.id = entry.id;
    tr.addEventListener("click", () => {
      const detail = document.getElementById("entry-detail");
      detail.hidden = false;
      detail.textContent = JSON.stringify(entry, null, 2);
    });
    body.appendChild(tr);
  }
}

function renderFaults(faults) {
  const list = document.getElementById("faults");
  list.replaceChildren();
  if (faults.length === 0) list.appendChild(element("li", "No active fault rules", "empty"));
  for (const rule of faults) {
    const what = [rule.delayMs ? "delay " + rule.delayMs + " ms" : "", rule.status ? "status " + rule.status : "",
      rule.fault ? rule.fault : ""].filter(Boolean).join(", ");
    const left = rule.remaining === null ? "until removed" : rule.remaining + " left";
    list.appendChild(element("li", `${rule.id}: ${rule.operationId}: ${what}, rate ${rule.rate}, ${left}`));
  }
}

function renderState(chats) {
  const container = document.getElementById("chats");
  container.replaceChildren();
  for (const chat of chats) {
    const block = element("div", null, "chat");
    block.appendChild(element("h3", `${chat.name || chat._id} (${chat.type || "chat"}, ${chat.projectId})`));
    const people = element("ul");
    for (const participant of chat.participants) {
      const user = participant.user || participant;
      const name = [user.firstName, user.lastName].filter(Boolean).join(" ") || user._id || participant.userId;
      people.appendChild(element("li", `${name} ${participant.role ? "(" + participant.role + ")" : ""}`));
    }
    block.appendChild(element("p", "Participants"));
    block.appendChild(people);
    const messages = element("ul");
    for (const message of chat.messages) {
      const sender = message.sender ? message.sender.firstName || message.sender._id : "";
      messages.appendChild(element("li", `${sender}: ${message.content}`));
    }
    if (chat.messages.length === 0) messages.appendChild(element("li", "No messages", "empty"));
    block.appendChild(element("p", "Messages"));
    block.appendChild(messages);
    container.appendChild(block);
  }
}

function renderOperations(operations) {
  const body = document.querySelector("#operations tbody");
  body.replaceChildren();
  for (const operation of operations) {
    body.appendChild(row([operation.method, operation.path, operation.operationId, operation.statuses.join(" ")]));
  }
}

async function refresh() {
  try {
    const [journal, faults, state] = await Promise.all([admin("GET", "requests?limit=" + JOURNAL_ROWS), admin("GET", "faults"),
      admin("GET", "state")]);
    renderJournal(journal.requests);
    renderFaults(faults.faults);
    renderState(state.chats);
    showStatus("Updated " + new Date().toLocaleTimeString(), false);
  } catch (error) {
    showStatus(error.message, true);
  }
}

async function act(method, path, done) {
  try {
    await admin(method, path);
    showStatus(done, false);
    await refresh();
  } catch (error) {
    showStatus(error.message, true);
  }
}

async function start() {
  const input = document.getElementById("admin-token");
  input.value = sessionStorage.getItem(TOKEN_KEY) || "";
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value);
    else sessionStorage.removeItem(TOKEN_KEY);
    loadOperations();
    refresh();
  });
  document.getElementById("clear-faults").addEventListener("click", () => act("DELETE", "faults", "Fault rules cleared"));
  document.getElementById("clear-journal").addEventListener("click", () => act("DELETE", "requests", "Journal cleared"));
  document.getElementById("reset-state").addEventListener("click", () => act("POST", "reset", "State reset"));
  await loadOperations();
  await refresh();
  setInterval(refresh, POLL_MS);
}

async function loadOperations() {
  try {
    renderOperations((await admin("GET", "operations")).operations);
  } catch (error) {
    showStatus(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", start);
