// The mock's console: reads the admin API (/__mock/...) and shows it. Everything is
// rendered with textContent, never innerHTML: journal entries hold what clients sent.
//
// It polls one request at a time: the next poll is due POLL_MS after the last one has
// finished, and none is made while the tab is hidden. The state is read as a summary
// (counts and sizes), plus the newest messages of the one chat on show: the chats where
// the document has the chat API's behaviours (GET /__mock/resources: handWritten holds
// getUserChats), else the inferred resources the mock keeps state for (its `served`).
//
// Each panel says "Loading…" (in the page's HTML) until its first read answers; a read
// that fails shows its error in the panel's error line, until one succeeds.
"use strict";

const TOKEN_KEY = "mudbase-mock-admin-token";
const POLL_MS = 1000;
const JOURNAL_ROWS = 100;
const CHAT_MESSAGES = 20;

let model = null; // GET /__mock/resources, read with the operations
let modelError = null; // why the model could not be read, if it could not
let operationsRead = false; // the operations panel is filled (read once: they do not change)
let shownChat = null; // {projectId, chatId} of the chat whose messages are shown; null: the first
let refreshing = null; // the refresh under way, if any
let refreshAgain = false; // asked for while one was under way
let pollTimer = null;

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

function panelRead(sectionId) {
  document.querySelector(`#${sectionId} .panel-error`).hidden = true;
}

function panelFailed(sectionId, what, error) {
  const section = document.getElementById(sectionId);
  for (const placeholder of section.querySelectorAll(".loading")) placeholder.remove();
  const line = section.querySelector(".panel-error");
  line.textContent = `Could not read ${what}: ${error.message}`;
  line.hidden = false;
}

// GET /__mock/PATH into one panel; the error, if it failed, else null.
async function read(sectionId, path, render) {
  try {
    render(await admin("GET", path));
    panelRead(sectionId);
    return null;
  } catch (error) {
    panelFailed(sectionId, "/__mock/" + path.split("?")[0], error);
    return error;
  }
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
    const tr = row([entry.id, time, entry.method, element("td", entry.path, "path"),
      element("td", entry.operationId || "", "operation"), entry.caller || "", status, entry.durationMs.toFixed(1)]);
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

function size(bytes) {
  return bytes < 1024 * 1024 ? (bytes / 1024).toFixed(1) + " KiB" : (bytes / 1024 / 1024).toFixed(1) + " MiB";
}

function isShown(chat) {
  return shownChat !== null && shownChat.projectId === chat.projectId && shownChat.chatId === chat._id;
}

// The chats are the state of the chat API's behaviours: elsewhere, none is reachable.
function hasChats() {
  return model !== null && model.handWritten.includes("getUserChats");
}

function renderResources(state) {
  const container = document.getElementById("chats");
  container.replaceChildren();
  container.appendChild(element("p", `About ${size(state.bytes)} of ${size(state.limits.stateBytes)}; ` +
    `${state.itemsAdded} items added past the document's examples (at most ${state.limits.items})`, "state-total"));
  if (model === null) return;
  const served = model.resources.filter((resource) => model.served.includes(resource.name));
  if (served.length === 0) {
    container.appendChild(element("p", "No inferred resources: every operation answers from the document " +
      "(GET /__mock/resources says why)", "empty"));
    return;
  }
  container.appendChild(element("p", "Inferred resources the mock keeps state for"));
  const list = element("ul", null, "resources");
  for (const resource of served) {
    const scope = resource.scope.length ? `, scoped by ${resource.scope.join(", ")}` : "";
    list.appendChild(element("li", `${resource.name}: ${resource.collectionPath} (items at ${resource.itemPath}${scope})`));
  }
  container.appendChild(list);
}

function renderState(state, page) {
  if (!hasChats()) {
    renderResources(state);
    return;
  }
  const container = document.getElementById("chats");
  container.replaceChildren();
  container.appendChild(element("p", `About ${size(state.bytes)} of ${size(state.limits.stateBytes)}; ` +
    `${state.sessions} sessions of ${state.limits.sessions}`, "state-total"));
  for (const chat of state.chats) {
    const block = element("div", null, "chat");
    const title = element("h3", `${chat.name || chat._id} (${chat.type || "chat"}, ${chat.projectId})`);
    title.title = "Show this chat's newest messages";
    title.addEventListener("click", () => {
      shownChat = { projectId: chat.projectId, chatId: chat._id };
      refresh();
    });
    block.appendChild(title);
    const people = element("ul");
    for (const participant of chat.participants) {
      // The state names each participant a fixture user has the ID of; the ID, as a tooltip.
      const person = element("li", (participant.name || participant.userId) +
        (participant.role ? ` (${participant.role})` : ""));
      if (participant.name) person.title = participant.userId;
      people.appendChild(person);
    }
    block.appendChild(element("p", "Participants"));
    block.appendChild(people);
    block.appendChild(element("p", `${chat.messageCount} messages, about ${size(chat.bytes)}`));
    if (page && isShown(chat)) {
      const messages = element("ul");
      for (const message of page.messages) {
        const sender = message.sender
          ? [message.sender.firstName, message.sender.lastName].filter(Boolean).join(" ") || message.sender._id
          : "";
        messages.appendChild(element("li", `${sender}: ${message.isE2ee ? "(encrypted)" : message.content}`));
      }
      if (page.messages.length === 0) messages.appendChild(element("li", "No messages", "empty"));
      block.appendChild(element("p", page.messages.length < chat.messageCount ? "The newest messages" : "Messages"));
      block.appendChild(messages);
    }
    container.appendChild(block);
  }
}

function renderOperations(operations) {
  const body = document.querySelector("#operations tbody");
  body.replaceChildren();
  for (const operation of operations) {
    body.appendChild(row([operation.method, element("td", operation.path, "path"),
      element("td", operation.operationId, "operation"), operation.statuses.join(" ")]));
  }
}

// The state panel: the summary, and the newest messages of the chat on show.
async function readState() {
  try {
    const state = await admin("GET", "state");
    let page = null;
    if (hasChats()) {
      if (shownChat === null || !state.chats.some(isShown)) {
        shownChat = state.chats.length ? { projectId: state.chats[0].projectId, chatId: state.chats[0]._id } : null;
      }
      if (shownChat !== null) {
        const chat = state.chats.find(isShown);
        const query = new URLSearchParams({ projectId: chat.projectId, chatId: chat._id,
          limit: String(CHAT_MESSAGES), cursor: String(Math.max(0, chat.messageCount - CHAT_MESSAGES)) });
        page = await admin("GET", "state?" + query);
      }
    }
    renderState(state, page);
    if (model === null && modelError !== null) {
      panelFailed("state-section", "/__mock/resources", modelError);
      return modelError;
    }
    panelRead("state-section");
    return null;
  } catch (error) {
    panelFailed("state-section", "/__mock/state", error);
    return error;
  }
}

// One request at a time: each waits for the one before. A panel that fails does not stop
// the others; the status line shows the first failure.
async function refreshOnce() {
  const errors = [];
  if (!operationsRead || model === null) errors.push(...await loadOperations());
  errors.push(await read("journal-section", "requests?limit=" + JOURNAL_ROWS, (body) => renderJournal(body.requests)));
  errors.push(await read("faults-section", "faults", (body) => renderFaults(body.faults)));
  errors.push(await readState());
  const failed = errors.filter(Boolean);
  if (failed.length) showStatus(failed[0].message, true);
  else showStatus("Updated " + new Date().toLocaleTimeString(), false);
}

// A refresh asked for while one is under way runs once that one is done, never beside it.
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await refreshOnce();
      } while (refreshAgain);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// The next poll, POLL_MS after the last one finished; none while the tab is hidden.
function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (document.visibilityState === "hidden") return;
  pollTimer = setTimeout(async () => {
    pollTimer = null;
    await refresh();
    schedulePoll();
  }, POLL_MS);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    clearTimeout(pollTimer);
    pollTimer = null;
  } else {
    refresh().then(schedulePoll);
  }
});

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
    operationsRead = false;
    model = null; // read again first, with the token: the model says what the state panel shows
    refresh();
  });
  document.getElementById("clear-faults").addEventListener("click", () => act("DELETE", "faults", "Fault rules cleared"));
  document.getElementById("clear-journal").addEventListener("click", () => act("DELETE", "requests", "Journal cleared"));
  document.getElementById("reset-state").addEventListener("click", () => act("POST", "reset", "State reset"));
  await refresh(); // the operations and the model first (refreshOnce)
  schedulePoll();
}

// The operations panel, then the model; their errors (null where read).
async function loadOperations() {
  const errors = [];
  if (!operationsRead) {
    errors.push(await read("operations-section", "operations", (body) => {
      renderOperations(body.operations);
      operationsRead = true;
    }));
  }
  try {
    model = await admin("GET", "resources");
    modelError = null;
  } catch (error) {
    modelError = error;
  }
  return errors;
}

document.addEventListener("DOMContentLoaded", start);
