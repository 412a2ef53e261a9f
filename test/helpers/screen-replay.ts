// A small terminal model for tests: replays what a program wrote to a terminal of a fixed size (line feeds,
// carriage returns, cursor up, erase below / in line, wrapping at the right edge, scrolling) and keeps the
// scrollback, so a test can look at the screen as a user would, and count lines the terminal had to wrap.
// Colour and other sequences are read and ignored.

/** A terminal of `rows` x `columns` that text is written to. */
export class ScreenReplay {
  /** Every line ever shown, scrollback first. */
  readonly lines: string[][] = [[]];
  /** Lines that ran past the right edge and were wrapped by the terminal. */
  wraps = 0;
  private top = 0;
  private row = 0;
  private col = 0;

  constructor(
    readonly rows: number,
    readonly columns: number,
  ) {}

  /** Feeds terminal output (as a pty passes it on: "\n" arrives as "\r\n"). */
  write(text: string): void {
    // eslint-disable-next-line no-control-regex
    const tokens = text.matchAll(/\u001b\[([0-9;?]*)([A-Za-z])|\u001b[()][A-Za-z0-9]|\r|\n|[^\u001b\r\n]/gu);
    for (const [token, params, command] of tokens) {
      if (token === '\r') this.col = 0;
      else if (token === '\n') this.lineFeed();
      else if (command !== undefined) this.control(params ?? '', command);
      else if (!token.startsWith('\u001b')) this.put(token);
    }
  }

  /** The visible screen, one string per row (trailing blanks removed). */
  screen(): string[] {
    return Array.from({ length: this.rows }, (_v, i) => this.text(this.top + i));
  }

  /** Scrollback and screen down to the cursor's row. */
  all(): string[] {
    return this.lines.map((_l, i) => this.text(i)).slice(0, Math.max(this.row + 1, 0));
  }

  /** The `count` rows right above the cursor (where a frame ending in a newline sits). */
  aboveCursor(count: number): string[] {
    return Array.from({ length: count }, (_v, i) => this.text(this.row - count + i)).filter((_l, i) => this.row - count + i >= this.top);
  }

  private text(index: number): string {
    return (this.lines[index] ?? []).join('').trimEnd();
  }

  private lineFeed(): void {
    this.row += 1;
    this.col = 0;
    while (this.lines.length <= this.row) this.lines.push([]);
    if (this.row >= this.top + this.rows) this.top = this.row - this.rows + 1;
  }

  private put(char: string): void {
    if (this.col >= this.columns) {
      this.wraps += 1;
      this.lineFeed();
    }
    const line = this.lines[this.row]!;
    while (line.length < this.col) line.push(' ');
    line[this.col] = char;
    this.col += 1;
  }

  private control(params: string, command: string): void {
    const n = Number.parseInt(params || '1', 10) || 1;
    if (command === 'A') this.row = Math.max(this.top, this.row - n);
    else if (command === 'B') this.row = Math.min(this.top + this.rows - 1, this.row + n);
    else if (command === 'G') this.col = n - 1;
    else if (command === 'F') {
      this.row = Math.max(this.top, this.row - n);
      this.col = 0;
    } else if (command === 'E') {
      this.row = Math.min(this.top + this.rows - 1, this.row + n);
      this.col = 0;
    } else if (command === 'J') {
      // Erase from the cursor to the end of the screen (0J); 2J clears the screen.
      const from = params === '2' ? this.top : this.row;
      for (let i = from; i < this.lines.length; i++) {
        if (i === this.row && params !== '2') this.lines[i] = this.lines[i]!.slice(0, this.col);
        else if (i >= this.top) this.lines[i] = [];
      }
    } else if (command === 'K') {
      const line = this.lines[this.row]!;
      if (params === '2') this.lines[this.row] = [];
      else if (params === '1') line.fill(' ', 0, this.col);
      else this.lines[this.row] = line.slice(0, this.col);
    }
    while (this.lines.length <= this.row) this.lines.push([]);
  }
}
