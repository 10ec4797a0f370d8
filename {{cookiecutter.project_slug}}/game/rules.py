"""The rules of each game, as plain functions of plain JSON state.

The server stores every game's state in a JSONField and changes it only through
`Ruleset.apply`, so the rules alone decide what is legal. Nothing here knows about
Django, users or sockets. To add a game, subclass `Ruleset` (or `InARow` for
"drop a piece, make a line" games) and list an instance in RULESETS.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass


class IllegalMove(Exception):
    """A move the rules forbid. The message is meant to be shown to the player."""


@dataclass(frozen=True)
class Outcome:
    winner: int | None  # the winning player, or None for a draw
    line: tuple[tuple[int, int], ...] = ()  # the winning (row, column) cells; empty for a draw


class Ruleset(ABC):
    """One game's rules. Players are 0 (who moves first) and 1, and a move is an int.

    A ruleset holds no game data, and never changes the state it is given, so a
    single shared instance serves every game.
    """

    key: str  # saved with each game: never rename it once games exist
    label: str  # shown to people
    rows: int  # the board's size, for drawing it
    columns: int

    @abstractmethod
    def initial_state(self) -> dict:
        """The state of a new game: JSON-serializable data only."""

    @abstractmethod
    def to_move(self, state: dict) -> int | None:
        """The player whose turn it is, or None once the game is over."""

    @abstractmethod
    def legal_moves(self, state: dict) -> list[int]:
        """Every move the player to move may make; empty once the game is over."""

    @abstractmethod
    def apply(self, state: dict, player: int, move: int) -> dict:
        """The new state after `player` plays `move`, or IllegalMove. Never mutates `state`."""

    @abstractmethod
    def outcome(self, state: dict) -> Outcome | None:
        """How the game ended, or None while it goes on."""


# Across, down, and both diagonals. Their opposites are walked too (see find_line).
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def find_line(board: list[list], row: int, column: int, length: int) -> list[list[int]]:
    """The run of at least `length` equal pieces through (row, column), as [row, column] cells.

    Only the piece just placed can have completed a line, so looking through it is enough.
    Returns [] if there is no such run.
    """
    piece = board[row][column]
    for dr, dc in DIRECTIONS:
        cells = [[row, column]]
        for step in (1, -1):  # walk both ways from the new piece
            r, c = row + step * dr, column + step * dc
            while 0 <= r < len(board) and 0 <= c < len(board[r]) and board[r][c] == piece:
                cells.append([r, c])
                r, c = r + step * dr, c + step * dc
        if len(cells) >= length:
            return sorted(cells)
    return []


class InARow(Ruleset):
    """Players take turns putting one piece on the board; `length` in a row wins,
    and a full board without one is a draw. Subclasses say where a move goes."""

    length: int

    @abstractmethod
    def place(self, board: list[list], move: int) -> tuple[int, int]:
        """The (row, column) where `move` puts a piece, or IllegalMove if it can't."""

    def initial_state(self) -> dict:
        return {
            "board": [[None] * self.columns for _ in range(self.rows)],  # row 0 is the top
            "moves": 0,
            # The result is stored rather than recomputed, so a reloaded game still shows it.
            "winner": None,
            "draw": False,
            "line": [],
        }

    def to_move(self, state: dict) -> int | None:
        if state["winner"] is not None or state["draw"]:
            return None
        return state["moves"] % 2

    def apply(self, state: dict, player: int, move: int) -> dict:
        turn = self.to_move(state)
        if turn is None:
            raise IllegalMove("The game is over.")
        if player != turn:
            raise IllegalMove(f"It is player {turn + 1}'s turn.")  # players see them as 1 and 2
        # Moves arrive from clients: 3.0 or "3" is a bug there, and True is not column 1.
        if type(move) is not int:
            raise IllegalMove(f"A move must be a whole number, not {move!r}.")
        row, column = self.place(state["board"], move)

        board = [list(cells) for cells in state["board"]]  # a copy, so `state` stays as it was
        board[row][column] = player
        line = find_line(board, row, column, self.length)
        moves = state["moves"] + 1
        return {
            "board": board,
            "moves": moves,
            "winner": player if line else None,
            "draw": not line and moves == self.rows * self.columns,
            "line": line,
        }

    def outcome(self, state: dict) -> Outcome | None:
        if state["winner"] is not None:
            return Outcome(state["winner"], tuple((r, c) for r, c in state["line"]))
        if state["draw"]:
            return Outcome(winner=None)
        return None


class ConnectFour(InARow):
    key = "connect4"
    label = "Connect Four"
    rows, columns, length = 6, 7, 4

    def legal_moves(self, state: dict) -> list[int]:
        if self.to_move(state) is None:
            return []
        return [c for c in range(self.columns) if state["board"][0][c] is None]

    def place(self, board: list[list], move: int) -> tuple[int, int]:
        # A move is a column; the piece falls to the lowest empty row in it.
        if not 0 <= move < self.columns:
            raise IllegalMove(f"There is no column {move}.")
        for row in reversed(range(self.rows)):
            if board[row][move] is None:
                return row, move
        raise IllegalMove("That column is full.")


class TicTacToe(InARow):
    key = "tictactoe"
    label = "Tic-tac-toe"
    rows, columns, length = 3, 3, 3

    def legal_moves(self, state: dict) -> list[int]:
        if self.to_move(state) is None:
            return []
        cells = [cell for row in state["board"] for cell in row]
        return [move for move, cell in enumerate(cells) if cell is None]

    def place(self, board: list[list], move: int) -> tuple[int, int]:
        # A move is a square, numbered 0-8 left to right, top to bottom.
        if not 0 <= move < self.rows * self.columns:
            raise IllegalMove(f"There is no square {move}.")
        row, column = divmod(move, self.columns)
        if board[row][column] is not None:
            raise IllegalMove("That square is taken.")
        return row, column


RULESETS: dict[str, Ruleset] = {r.key: r for r in (ConnectFour(), TicTacToe())}


def get_ruleset(key: str) -> Ruleset:
    """The ruleset for `key`. Raises ValueError, which input validation reports as an error."""
    try:
        return RULESETS[key]
    except KeyError:
        raise ValueError(f"Unknown game {key!r}; choose one of: {', '.join(RULESETS)}.") from None
