// One chat room: live messages, history on (re)connect, presence and typing.
// Every piece of user text is put into the page with textContent, never as HTML.
//
// Nothing typed is lost: a sent message shows at once as "Sending…" and stays
// pending until the server echoes it back, matched by its nonce (the server
// stores one message per nonce, so resending is always safe). Pending messages
// are kept in sessionStorage, so a reload resends them too: per tab, like the
// page they were typed in (localStorage would make every tab of the room resend
// and show them). They go out one at a time, each after the previous one's echo:
// in the order typed, never a burst the rate limit refuses; a "rate_limited"
// refusal says when to retry, and a reconnect resends from the first unconfirmed.
import { RealtimeSocket, newId } from "../realtime/client.js";

const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_FOR_MS = 3000;
const ECHO_TIMEOUT_MS = 10000; // no echo by then: send the message again
const SERVER_ERROR_RETRY_MS = 5000;

const root = document.querySelector(".chat");
const me = root.dataset.username;
const moderator = root.dataset.moderator === "true"; // staff; the server checks again
const list = root.querySelector("[data-messages]");
const people = root.querySelector("[data-people]");
const typingLine = root.querySelector("[data-typing]");
const composer = root.querySelector("[data-composer]");
const input = composer.querySelector("input");
const errorLine = composer.querySelector("[data-error]");

// Ids of the messages on the page: the resume cursor and the duplicate filter.
const seen = new Set([...list.querySelectorAll("[data-message-id]")].map((li) => Number(li.dataset.messageId)));
const lastSeenId = () => (seen.size ? Math.max(...seen) : null);

const timeFormat = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const formatTime = (iso) => timeFormat.format(new Date(iso));

function renderMessage(message) {
  const item = document.createElement("li");
  item.className = message.system ? "message message--system" : "message";
  item.dataset.messageId = message.id;
  // The server's messages get a badge instead of an author: "Server notice" has a
  // space, which no username can, and a look of its own.
  const author = document.createElement("span");
  author.className = message.system ? "message__badge" : "message__author";
  author.textContent = message.system ? "Server notice" : (message.author ?? "deleted user");
  const time = document.createElement("time");
  time.className = "message__time";
  time.dateTime = message.created_at;
  time.textContent = formatTime(message.created_at);
  const text = document.createElement("p");
  text.className = "message__text";
  text.textContent = message.text;
  item.append(author, time, text);
  if (moderator && message.id) item.append(deleteButton(message));
  return item;
}

// Moderation (staff only; the server refuses anyone else, frame by frame).
function moderationButton(text, label, frame) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button--quiet";
  button.textContent = text;
  button.setAttribute("aria-label", label);
  button.addEventListener("click", () => socket.send(...frame));
  return button;
}
const deleteButton = (message) =>
  moderationButton("Delete", `Delete message from ${message.author ?? "system"}`, [
    "chat.delete_message",
    { id: Number(message.id) },
  ]);
const removeButton = (name) =>
  moderationButton("Remove", `Remove ${name} from the room`, ["chat.remove_member", { username: name }]);

// nonce -> {text, item}, in the order typed: not yet seen coming back from the server.
const pending = new Map();
const storageKey = `chat.pending:${root.dataset.room}:${me}`;
let inFlight = null; // the nonce sent and not yet echoed: one at a time
let echoTimer = null;
let pauseTimer = null; // waiting out a refusal

function savePending() {
  try {
    sessionStorage.setItem(storageKey, JSON.stringify([...pending].map(([nonce, { text }]) => [nonce, text])));
  } catch {
    // Storage full or disabled: the messages still wait in this page.
  }
}

function loadPending() {
  try {
    return JSON.parse(sessionStorage.getItem(storageKey)) ?? [];
  } catch {
    return [];
  }
}

function showPending(nonce, text) {
  const item = renderMessage({ id: "", author: me, text, created_at: new Date().toISOString() });
  item.classList.add("message--pending");
  item.querySelector(".message__time").textContent = "Sending…";
  list.append(item);
  list.scrollTop = list.scrollHeight;
  pending.set(nonce, { text, item });
}

function sendNext() {
  if (inFlight || pauseTimer || !socket.isOpen) return;
  const first = pending.entries().next();
  if (first.done) return;
  const [nonce, { text }] = first.value;
  if (!socket.send("chat.send", { text, nonce })) return;
  inFlight = nonce;
  clearTimeout(echoTimer);
  echoTimer = setTimeout(() => { inFlight = null; sendNext(); }, ECHO_TIMEOUT_MS);
}

function resendAfter(milliseconds) {
  inFlight = null;
  clearTimeout(pauseTimer);
  pauseTimer = setTimeout(() => { pauseTimer = null; sendNext(); }, milliseconds);
}

// An error about chat.send is about the one message in flight.
function refused(frame) {
  if (frame.code === "rate_limited") return resendAfter((frame.retry_after ?? 1) * 1000);
  // Stored but not pushed (not_delivered), or a server fault: resending is safe (the nonce).
  if (frame.code === "not_delivered" || frame.code === "server_error") {
    return resendAfter(SERVER_ERROR_RETRY_MS);
  }
  errorLine.textContent = frame.message; // the message itself is refused: it will never be stored
  const entry = pending.get(inFlight);
  if (entry) entry.item.querySelector(".message__time").textContent = "Not sent";
  pending.delete(inFlight);
  savePending();
  inFlight = null;
  sendNext();
}

function addMessage(message) {
  if (message.nonce && pending.has(message.nonce)) {
    pending.get(message.nonce).item.remove(); // confirmed: the stored copy takes its place
    pending.delete(message.nonce);
    savePending();
    if (inFlight === message.nonce) {
      inFlight = null;
      sendNext();
    }
  }
  if (seen.has(message.id)) return; // already here (history and live overlap on resume)
  seen.add(message.id);
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const item = renderMessage(message);
  // Almost always the newest; keep id order if one arrives late.
  const later = [...list.children].find((li) => Number(li.dataset.messageId) > message.id);
  list.insertBefore(item, later ?? null);
  if (nearBottom || message.author === me) list.scrollTop = list.scrollHeight;
  if (message.author) clearTyping(message.author);
}

// The server skipped a gap too long to stream (chat.history with replace): show its
// recent messages in place of the page's, as a reload would; what is still being
// sent stays, after them.
function replaceHistory(messages) {
  seen.clear();
  list.replaceChildren();
  messages.forEach(addMessage);
  for (const { item } of pending.values()) list.append(item);
  list.scrollTop = list.scrollHeight;
}

// Who is here: the whole list once (chat.presence, on connect and after a
// correction), then only changes (chat.presence_changed). One item per person,
// kept in name order; a change touches only its own item.
const here = new Map(); // username -> its <li>

function personItem(name) {
  const item = document.createElement("li");
  item.dataset.name = name;
  item.textContent = name === me ? `${name} (you)` : name;
  if (moderator && name !== me) item.append(" ", removeButton(name));
  here.set(name, item);
  return item;
}

function addPerson(name) {
  if (here.has(name)) return;
  const next = [...people.children].find((item) => item.dataset.name > name);
  people.insertBefore(personItem(name), next ?? null);
}

function removePerson(name) {
  here.get(name)?.remove();
  here.delete(name);
}

function replacePeople(members) {
  here.clear();
  people.replaceChildren(...members.map(personItem)); // sorted by the server
}

const typers = new Map(); // name -> timer that clears them
function showTyping(name) {
  if (name === me) return;
  clearTimeout(typers.get(name));
  typers.set(name, setTimeout(() => clearTyping(name), TYPING_SHOW_FOR_MS));
  renderTyping();
}
function clearTyping(name) {
  clearTimeout(typers.get(name));
  if (typers.delete(name)) renderTyping();
}
function renderTyping() {
  const names = [...typers.keys()];
  typingLine.textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}

const socket = new RealtimeSocket(`/ws/chat/${root.dataset.room}/`, {
  query: () => ({ after: lastSeenId() }),
  onOpen() {
    inFlight = null; // whatever was in flight is resent; the nonce keeps it single
    sendNext();
  },
  onStateChange(state) {
    if (state !== "closed") return; // a moderator removed this user: nothing more to send
    input.disabled = true;
    composer.querySelector("button").disabled = true;
    errorLine.textContent = "A moderator removed you from this room.";
  },
  onMessage(frame) {
    switch (frame.type) {
      case "chat.history":
        if (frame.replace) replaceHistory(frame.messages);
        else frame.messages.forEach(addMessage);
        break;
      case "chat.message":
        // `previous` is the room's message before this one. A page without it missed
        // a push (an overloaded server drops some; all are stored): it catches up from
        // its cursor, and gets this one with the rest.
        if (frame.previous !== null && frame.previous > (lastSeenId() ?? 0)) socket.resume();
        else addMessage(frame.message);
        break;
      case "chat.presence":
        replacePeople(frame.members);
        break;
      case "chat.presence_changed":
        frame.left.forEach(removePerson);
        frame.joined.forEach(addPerson);
        break;
      case "chat.typing":
        showTyping(frame.user);
        break;
      case "chat.message_deleted":
        list.querySelector(`[data-message-id="${Number(frame.id)}"]`)?.remove();
        break;
      case "error":
        if (frame.about === "chat.send" && inFlight) refused(frame);
        else if (frame.code !== "rate_limited") errorLine.textContent = frame.message;
        break;
    }
  },
});

list.querySelectorAll("time").forEach((time) => { time.textContent = formatTime(time.dateTime); });
if (moderator) {
  for (const item of list.querySelectorAll("[data-message-id]")) {
    const author = item.querySelector(".message__author")?.textContent ?? "system";
    item.append(deleteButton({ id: item.dataset.messageId, author }));
  }
}
for (const [nonce, text] of loadPending()) showPending(nonce, text); // typed before a reload
list.scrollTop = list.scrollHeight;

let lastTypingSent = 0;
composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  const nonce = newId();
  showPending(nonce, text);
  savePending();
  input.value = "";
  errorLine.textContent = "";
  lastTypingSent = 0; // the next keystroke starts a new "is typing" at once
  sendNext(); // if offline or busy, it goes when the connection and the queue allow
});

input.addEventListener("input", () => {
  const now = Date.now();
  if (input.value && now - lastTypingSent > TYPING_SEND_EVERY_MS && socket.send("chat.typing")) {
    lastTypingSent = now;
  }
});
