// The room list: member counts pushed live by the lobby consumer.
import { RealtimeSocket } from "../realtime/client.js";

const list = document.querySelector("[data-room-list]");
const roomUrl = (slug) => list.dataset.roomUrl.replace("ROOM", encodeURIComponent(slug));

function row(slug) {
  let item = list.querySelector(`[data-room="${CSS.escape(slug)}"]`);
  if (item) return item;
  list.querySelector("[data-empty]")?.remove();
  item = document.createElement("li");
  item.className = "room-list__item";
  item.dataset.room = slug;
  const link = document.createElement("a");
  link.href = roomUrl(slug);
  link.textContent = `#${slug}`;
  const count = document.createElement("span");
  count.className = "member-count";
  item.append(link, count);
  const next = [...list.children].find((li) => li.dataset.room > slug);
  list.insertBefore(item, next ?? null);
  return item;
}

function setCount(slug, count) {
  const badge = row(slug).querySelector(".member-count");
  badge.dataset.count = count;
  badge.textContent = `${count} here`;
}

new RealtimeSocket("/ws/chat/", {
  onMessage(frame) {
    if (frame.type === "chat.rooms") frame.rooms.forEach(({ room, count }) => setCount(room, count));
    if (frame.type === "chat.room_members") setCount(frame.room, frame.count);
  },
});
