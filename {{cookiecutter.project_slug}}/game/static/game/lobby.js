// The lobby: games appear, fill up and disappear live.
import { RealtimeSocket } from "../realtime/client.js";

const root = document.querySelector("[data-lobby]");
const me = root.dataset.username;
const list = root.querySelector("[data-game-list]");

function linkText(game) {
  if (game.players.includes(me)) return "Open";
  return game.status === "open" ? "Join" : "Watch";
}

function render(game) {
  const item = document.createElement("li");
  item.className = "game-list__item";
  item.dataset.gameId = game.id;
  const name = document.createElement("span");
  name.className = "game-list__name";
  name.textContent = `${game.label} #${game.id}`;
  const players = document.createElement("span");
  players.className = "game-list__players";
  players.textContent = `${game.players[0]} vs ${game.players[1] ?? "(open seat)"}`;
  const link = document.createElement("a");
  link.className = "button button--quiet";
  link.href = game.url;
  link.textContent = linkText(game);
  item.append(name, players, link);
  return item;
}

function upsert(game) {
  const existing = list.querySelector(`[data-game-id="${game.id}"]`);
  if (game.status === "finished") {
    existing?.remove();
    return;
  }
  list.querySelector("[data-empty]")?.remove();
  if (existing) existing.replaceWith(render(game));
  else list.prepend(render(game)); // newest first
}

new RealtimeSocket("/ws/game/", {
  onMessage(frame) {
    if (frame.type === "game.lobby") {
      list.querySelectorAll("[data-game-id]").forEach((item) => item.remove());
      [...frame.games].reverse().forEach(upsert);
    }
    if (frame.type === "game.listed") upsert(frame.game);
  },
});
