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
const joinForm = root.querySelector("[data-join]");

const PIECES = {
  connect4: ["Red", "Yellow"],
  tictactoe: ["X", "O"],
};

let game = null; // the latest game.state from the server
let online = new Set(); // who is looking at the game: game.presence, then its changes

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

// What a screen reader hears for each button: its number and what is in it.
function columnLabel(column) {
  // "Column 4, from the bottom: Red, Yellow, 4 empty" (pieces in the order they were dropped).
  const pieces = [];
  for (let row = game.rows - 1; row >= 0; row -= 1) {
    const value = game.board[row][column];
    if (value !== null) pieces.push(pieceName(value));
  }
  if (!pieces.length) return `Column ${column + 1}: empty`;
  const empty = game.rows - pieces.length;
  if (empty) pieces.push(`${empty} empty`);
  return `Column ${column + 1}, from the bottom: ${pieces.join(", ")}`;
}

function squareLabel(square) {
  const value = game.board[Math.floor(square / game.columns)][square % game.columns];
  return `Square ${square + 1}: ${value === null ? "empty" : pieceName(value)}`;
}

function myTurn() {
  return game.status === "active" && game.to_move === me;
}

function moveButton(move) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "board__move";
  button.dataset.move = move;
  button.addEventListener("click", () => {
    // aria-disabled rather than disabled: the button keeps keyboard focus between turns.
    if (button.getAttribute("aria-disabled") === "true") return;
    errorLine.textContent = "";
    if (!socket.send("game.move", { move, version: game.version })) {
      errorLine.textContent = "Not connected; try again in a moment.";
    }
  });
  return button;
}

// The buttons are made once and updated in place, so the one a player focused stays focused.
function renderBoard() {
  const connect4 = game.ruleset === "connect4";
  const count = connect4 ? game.columns : game.rows * game.columns;
  if (boardElement.children.length !== count) {
    boardElement.replaceChildren(...Array.from({ length: count }, (_, move) => moveButton(move)));
  }
  const playable = myTurn();
  for (const button of boardElement.children) {
    const move = Number(button.dataset.move);
    let cells;
    let open;
    if (connect4) {
      cells = Array.from({ length: game.rows }, (_, row) => cell(row, move));
      open = game.board[0][move] === null;
      button.setAttribute("aria-label", columnLabel(move));
    } else {
      const [row, column] = [Math.floor(move / game.columns), move % game.columns];
      cells = [cell(row, column)];
      open = game.board[row][column] === null;
      button.setAttribute("aria-label", squareLabel(move));
    }
    button.replaceChildren(...cells);
    button.setAttribute("aria-disabled", String(!(playable && open)));
  }
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
      const here = name && online.has(name);
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
  if (joinForm) joinForm.hidden = game.status !== "open";
  // Rematch controls are for the players of a finished game only.
  const finishedPlayer = seatOf(me) !== null && game.status === "finished";
  rematchButton.hidden = !(finishedPlayer && !game.rematch);
  rematchLink.hidden = !(finishedPlayer && game.rematch);
  if (game.rematch) rematchLink.href = game.rematch;
}

const socket = new RealtimeSocket(`/ws/game/${root.dataset.gameId}/`, {
  onMessage(frame) {
    switch (frame.type) {
      case "game.state": {
        const askedForRematch = rematchButton.dataset.asked === "true";
        game = frame.game;
        errorLine.textContent = ""; // a refusal was about the board before this one
        render();
        if (askedForRematch && game.rematch) window.location.assign(game.rematch);
        break;
      }
      case "game.presence": // the whole list: first, and to correct it
        online = new Set(frame.online);
        if (game) renderPlayers();
        break;
      case "game.presence_changed":
        for (const name of frame.joined) online.add(name);
        for (const name of frame.left) online.delete(name);
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
