// One chat room: live messages, history on (re)connect, presence and typing.
// Every piece of user text is put into the page with textContent, never as HTML.
//
// Nothing typed is lost: a sent message shows at once as "Sending…" and is
// resent after every reconnect until the server echoes it back (matched by
// its nonce; the server stores one message per nonce).
import { RealtimeSocket, newId } from "../realtime/client.js";

const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_FOR_MS = 3000;

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

// nonce -> {text, item}: sent, not yet seen coming back from the server.
const pending = new Map();

function showPending(nonce, text) {
  const item = renderMessage({ id: "", author: me, text, created_at: new Date().toISOString() });
  item.classList.add("message--pending");
  item.querySelector(".message__time").textContent = "Sending…";
  list.append(item);
  list.scrollTop = list.scrollHeight;
  pending.set(nonce, { text, item });
}

function sendPending() {
  for (const [nonce, { text }] of pending) {
    if (!socket.send("chat.send", { text, nonce })) return;
  }
}

function addMessage(message) {
  if (message.nonce && pending.has(message.nonce)) {
    pending.get(message.nonce).item.remove(); // confirmed: the stored copy takes its place
    pending.delete(message.nonce);
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

function renderPeople(members) {
  people.replaceChildren(
    ...members.map((name) => {
      const item = document.createElement("li");
      item.textContent = name === me ? `${name} (you)` : name;
      if (moderator && name !== me) item.append(" ", removeButton(name));
      return item;
    }),
  );
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
  onOpen: () => sendPending(),
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
        addMessage(frame.message);
        break;
      case "chat.presence":
        renderPeople(frame.members);
        break;
      case "chat.typing":
        showTyping(frame.user);
        break;
      case "chat.message_deleted":
        list.querySelector(`[data-message-id="${Number(frame.id)}"]`)?.remove();
        break;
      case "error":
        errorLine.textContent = frame.message;
        break;
    }
  },
});

list.querySelectorAll("time").forEach((time) => { time.textContent = formatTime(time.dateTime); });
if (moderator) {
  for (const item of list.querySelectorAll("[data-message-id]")) {
    const author = item.querySelector(".message__author").textContent;
    item.append(deleteButton({ id: item.dataset.messageId, author }));
  }
}
list.scrollTop = list.scrollHeight;

let lastTypingSent = 0;
composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  const nonce = newId();
  showPending(nonce, text);
  input.value = "";
  errorLine.textContent = "";
  lastTypingSent = 0; // the next keystroke starts a new "is typing" at once
  socket.send("chat.send", { text, nonce }); // if offline, sendPending() does it on reconnect
});

input.addEventListener("input", () => {
  const now = Date.now();
  if (input.value && now - lastTypingSent > TYPING_SEND_EVERY_MS && socket.send("chat.typing")) {
    lastTypingSent = now;
  }
});
