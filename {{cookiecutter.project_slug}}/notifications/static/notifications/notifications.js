// Notifications on every page: the unread badge in the navigation, toasts for
// new ones, and (on the notifications page) the live list with mark-as-read.
// All text goes into the page with textContent, never as HTML.
import { RealtimeSocket } from "../realtime/client.js";

const TOAST_MS = 8000;
const MAX_TOASTS = 3; // a burst shows its newest few; the list and the badge have them all

const list = document.querySelector("[data-notification-list]");
const navLink = document.querySelector('nav a[data-app="notifications"]');

// What this tab already shows, so a notification that arrives live and again
// on resume appears once. Announcements are matched by their shared key.
const seenIds = new Set();
const seenAnnouncements = new Set();
let latestId = null; // the resume cursor: newest notification id this tab knows
let unread = 0;

for (const item of list?.querySelectorAll("[data-notification-id]") ?? []) {
  seenIds.add(Number(item.dataset.notificationId));
  if (item.dataset.announcement) seenAnnouncements.add(item.dataset.announcement);
}

// -- badge -------------------------------------------------------------------
// <span class="nav-badge"><span>3</span><span class="visually-hidden"> unread</span></span>:
// the link reads "Notifications 3 unread" to a screen reader.
const badge = document.createElement("span");
badge.className = "nav-badge";
badge.hidden = true;
const badgeCount = document.createElement("span");
const badgeLabel = document.createElement("span");
badgeLabel.className = "visually-hidden";
badgeLabel.textContent = " unread";
badge.append(" ", badgeCount, badgeLabel);
navLink?.append(badge);

function setUnread(count) {
  unread = Math.max(0, count);
  badge.hidden = unread === 0;
  badgeCount.textContent = String(unread);
}

// -- toasts ------------------------------------------------------------------
let toastRegion = null;
function toasts() {
  if (!toastRegion) {
    toastRegion = document.createElement("div");
    toastRegion.className = "toasts";
    toastRegion.setAttribute("role", "region");
    toastRegion.setAttribute("aria-label", "New notifications");
    toastRegion.setAttribute("aria-live", "polite");
    document.body.append(toastRegion);
  }
  return toastRegion;
}

function safeHref(link) {
  return /^https?:\/\//.test(link) || (link.startsWith("/") && !link.startsWith("//")) ? link : null;
}

function titleElement(notification, tag) {
  const title = document.createElement(tag);
  const href = notification.link && safeHref(notification.link);
  if (href) {
    const anchor = document.createElement("a");
    anchor.href = href;
    anchor.textContent = notification.title;
    title.append(anchor);
  } else {
    title.textContent = notification.title;
  }
  return title;
}

function showToast(notification) {
  const toast = document.createElement("div");
  toast.className = `toast toast--${notification.level}`;
  const title = titleElement(notification, "strong");
  title.className = "toast__title";
  const body = document.createElement("p");
  body.className = "toast__body";
  body.textContent = notification.body;
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "toast__dismiss";
  dismiss.setAttribute("aria-label", "Dismiss");
  dismiss.textContent = "×";
  dismiss.addEventListener("click", () => toast.remove());
  toast.append(title, body, dismiss);
  const region = toasts();
  region.append(toast);
  while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
  setTimeout(() => toast.remove(), TOAST_MS);
}

// -- the list (notifications page only) --------------------------------------
const rowTemplate = document.querySelector("[data-notification-template]");

// "just now", "5 minutes ago", "yesterday": every row's age, from its <time>, kept current.
const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60]];
function age(datetime) {
  const seconds = (Date.now() - Date.parse(datetime)) / 1000;
  const [unit, size] = UNITS.find(([, size]) => seconds >= size) ?? [];
  return unit ? RELATIVE.format(-Math.floor(seconds / size), unit) : "just now";
}
function showAges() {
  for (const time of list?.querySelectorAll("time[datetime]") ?? []) {
    time.textContent = age(time.dateTime);
  }
}
if (list) {
  showAges();
  setInterval(showAges, 60_000);
}

function prependToList(notification) {
  if (!list || !rowTemplate || list.dataset.firstPage !== "true") return;
  list.querySelector("[data-empty]")?.remove();
  const item = rowTemplate.content.firstElementChild.cloneNode(true);
  item.classList.add(`notification--${notification.level}`);
  const title = titleElement(notification, "p");
  title.className = "notification__title";
  item.querySelector(".notification__title").replaceWith(title);
  const body = item.querySelector(".notification__body");
  if (notification.body) body.textContent = notification.body;
  else body.remove();
  const time = item.querySelector("time");
  time.dateTime = notification.created_at;
  time.textContent = age(notification.created_at);
  const form = item.querySelector("[data-mark-read]");
  if (notification.id) {
    item.dataset.notificationId = notification.id;
    // The template's action is the URL for id 0; this row's id goes in its place.
    form.action = form.getAttribute("action").replace(/\/0\/read\/$/, `/${notification.id}/read/`);
  } else {
    delete item.dataset.notificationId; // an announcement pushed to everyone: no stored row yet
    form.remove(); // so only "Mark all as read" reaches it
  }
  if (notification.read) showRowAsRead(item);
  list.prepend(item);
}

function clearList() {
  if (!list || list.dataset.firstPage !== "true") return;
  for (const item of list.querySelectorAll(".notification")) item.remove();
}

function showRowAsRead(item) {
  item.classList.remove("notification--unread");
  item.querySelector("[data-mark-read]")?.remove();
  item.querySelector("[data-unread-label]")?.remove();
}

function showAsRead(ids) {
  for (const item of list?.querySelectorAll(".notification") ?? []) {
    if (ids === null || ids.includes(Number(item.dataset.notificationId))) showRowAsRead(item);
  }
}

// -- the socket (or its fallback stream) -----------------------------------------
function isNew(notification) {
  if (notification.id && seenIds.has(notification.id)) return false;
  if (notification.announcement && seenAnnouncements.has(notification.announcement)) return false;
  if (notification.id) seenIds.add(notification.id);
  if (notification.announcement) seenAnnouncements.add(notification.announcement);
  return true;
}

function receive(notification, { toast = true } = {}) {
  if (notification.id) latestId = Math.max(latestId ?? 0, notification.id);
  if (!isNew(notification)) return false;
  if (toast) showToast(notification);
  prependToList(notification);
  return true;
}

// Where WebSockets cannot get through, the same frames come as Server-Sent Events
// (read-only: the forms below post instead), resuming from the same cursor.
const socket = new RealtimeSocket("/ws/notifications/", {
  query: () => ({ after: latestId }),
  fallback: "/notifications/stream/",
  onMessage(frame) {
    switch (frame.type) {
      case "notifications.state":
        // On a reconnect: what was created meanwhile. The count is the server's.
        if (frame.replace) clearList(); // it missed more: these are the newest, as on a reload
        frame.missed.forEach(receive);
        latestId = Math.max(latestId ?? 0, frame.latest_id);
        setUnread(frame.unread);
        break;
      case "notifications.new":
        if (receive(frame.notification) && !frame.notification.read) setUnread(unread + 1);
        break;
      case "notifications.read":
        setUnread(frame.unread);
        showAsRead(frame.ids);
        break;
      case "notifications.announced": // the worker's answer to this tab alone
        if (announceStatus) announceStatus.textContent = `Delivered to ${frame.recipients} users: ${frame.title}`;
        break;
    }
  },
});

// Mark as read through the socket (every tab hears about it); plain POST if offline.
list?.addEventListener("submit", (event) => {
  const form = event.target.closest("[data-mark-read]");
  if (!form) return;
  const id = Number(form.closest("[data-notification-id]").dataset.notificationId);
  if (socket.send("notifications.mark_read", { ids: [id] })) event.preventDefault();
});
document.querySelector("[data-mark-all-read]")?.addEventListener("submit", (event) => {
  if (socket.send("notifications.mark_all_read")) event.preventDefault();
});
// Staff: announce through the socket, so the worker can answer this tab; plain POST if offline.
const announceForm = document.querySelector("[data-announce-form]");
const announceStatus = document.querySelector("[data-announce-status]");
announceForm?.addEventListener("submit", (event) => {
  const fields = new FormData(announceForm);
  const announcement = { title: fields.get("title").trim(), body: fields.get("body").trim() };
  if (!socket.send("notifications.announce", announcement)) return;
  event.preventDefault();
  announceForm.reset();
  announceStatus.textContent = "Announcing…";
});
// "Send me a test notification" without leaving the page, so the push is seen arriving.
document.querySelector("[data-fetch-form]")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-Requested-With": "fetch" } });
});
