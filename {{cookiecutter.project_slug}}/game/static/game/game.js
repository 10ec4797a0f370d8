// One game: the board drawn from the server's state, moves sent as clicks.
// The server decides everything; this page only shows what it says.
import { RealtimeSocket } from "../realtime/client.js";

const root = document.querySelector(".game");
const me = root.dataset.username;
const boardElement = root.querySelector("[data-board]");
const statusLine = root.querySelector("[data-game-status]");
const errorLine = root.querySelector("[data-game-error]");
const playersList = root.querySelector("[data-players]");
const movesList = root.querySelector("[data-moves]");
const rematchButton = root.querySelector("[data-rematch]");
const rematchLink = root.querySelector("[data-rematch-link]");

const PIECES = {
  connect4: ["Red", "Yellow"],
  tictactoe: ["X", "O"],
};

let game = null; // the latest game.state from the server
let online = [];

function seatOf(name) {
  const seat = game.players.indexOf(name);
  return seat === -1 ? null : seat;
}

function pieceName(seat) {
  return PIECES[game.ruleset]?.[seat] ?? `Player ${seat + 1}`;
}

function describeMove(move) {
  return game.ruleset === "connect4" ? `column ${move + 1}` : `square ${move + 1}`;
}

function cell(row, column) {
  const value = game.board[row][column];
  const element = document.createElement("span");
  element.className = "cell";
  if (value !== null) element.dataset.player = value;
  if (game.line.some(([r, c]) => r === row && c === column)) element.classList.add("cell--winning");
  if (game.ruleset === "tictactoe" && value !== null) element.textContent = pieceName(value);
  return element;
}

function moveButton(move, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "board__move";
  button.setAttribute("aria-label", label);
  button.addEventListener("click", () => {
    errorLine.textContent = "";
    if (!socket.send("game.move", { move, version: game.version })) {
      errorLine.textContent = "Not connected; try again in a moment.";
    }
  });
  return button;
}

function renderBoard() {
  const buttons = [];
  if (game.ruleset === "connect4") {
    // One button per column: a click drops a piece into it.
    for (let column = 0; column < game.columns; column += 1) {
      const button = moveButton(column, `Column ${column + 1}`);
      for (let row = 0; row < game.rows; row += 1) button.append(cell(row, column));
      buttons.push(button);
    }
  } else {
    for (let row = 0; row < game.rows; row += 1) {
      for (let column = 0; column < game.columns; column += 1) {
        const square = row * game.columns + column;
        const button = moveButton(square, `Square ${square + 1}`);
        button.append(cell(row, column));
        buttons.push(button);
      }
    }
  }
  boardElement.replaceChildren(...buttons);
}

function statusText() {
  if (game.status === "open") return "Waiting for a second player. Share the link to invite a friend.";
  if (game.winner) return game.winner === me ? "You win!" : `${game.winner} wins!`;
  if (game.draw) return "Draw.";
  const seat = seatOf(game.to_move);
  if (game.to_move === me) return `Your turn (${pieceName(seat)}).`;
  return `${game.to_move}'s turn (${pieceName(seat)}).`;
}

function renderPlayers() {
  playersList.replaceChildren(
    ...game.players.map((name, seat) => {
      const item = document.createElement("li");
      const here = name && online.includes(name);
      item.className = here ? "player player--online" : "player";
      item.dataset.player = seat;
      item.textContent = name
        ? `${name}${name === me ? " (you)" : ""} · ${pieceName(seat)} · ${here ? "online" : "offline"}`
        : `${pieceName(seat)} · open seat`;
      return item;
    }),
  );
}

function renderMoves() {
  movesList.replaceChildren(
    ...game.moves.map((move) => {
      const item = document.createElement("li");
      item.textContent = `${move.player}: ${describeMove(move.move)}`;
      return item;
    }),
  );
}

function render() {
  renderBoard();
  renderPlayers();
  renderMoves();
  statusLine.textContent = statusText();
  root.dataset.status = game.status;
  const player = seatOf(me) !== null;
  rematchButton.hidden = !(player && game.status === "finished" && !game.rematch);
  rematchLink.hidden = !game.rematch;
  if (game.rematch) rematchLink.href = game.rematch;
}

const socket = new RealtimeSocket(`/ws/game/${root.dataset.gameId}/`, {
  onMessage(frame) {
    switch (frame.type) {
      case "game.state": {
        const askedForRematch = rematchButton.dataset.asked === "true";
        game = frame.game;
        render();
        if (askedForRematch && game.rematch) window.location.assign(game.rematch);
        break;
      }
      case "game.presence":
        online = frame.online;
        if (game) renderPlayers();
        break;
      case "error":
        errorLine.textContent = frame.message;
        break;
    }
  },
});

rematchButton.addEventListener("click", () => {
  rematchButton.dataset.asked = "true";
  socket.send("game.rematch");
});

root.querySelector("[data-copy]").addEventListener("click", async (event) => {
  const input = root.querySelector("#invite-link");
  try {
    await navigator.clipboard.writeText(input.value);
    event.target.textContent = "Copied";
  } catch {
    input.select(); // no clipboard permission: select it for Ctrl+C
  }
});
