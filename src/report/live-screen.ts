// The terminal side of the live view: replaces the previous frame with lines that stay and a new frame, in one write.

/** A terminal to draw on: raw writes and its current size. */
export interface Screen {
  write(text: string): void;
  size(): { rows: number; columns: number };
}

const ESC = '\u001b[';

/**
 * The text that moves the cursor back over the `previousHeight` lines of the last frame, erases them and
 * everything below, prints `above` (lines that stay) and then `frame`. Every line ends with a newline, so the
 * cursor rests at the start of the line under the frame, where the next redraw begins.
 */
export function composeRedraw(previousHeight: number, above: readonly string[], frame: readonly string[]): string {
  const erase = previousHeight > 0 ? `\r${ESC}${previousHeight}A${ESC}J` : '';
  const body = [...above, ...frame].map((line) => `${line}\n`).join('');
  return `${erase}${body}`;
}

/**
 * Draws frames on a screen, remembering how tall the last one was. Whatever else writes to the terminal
 * calls `clear()` first, so that the next frame is drawn below its lines instead of over them.
 */
export interface LiveScreen {
  /** Prints `above` for good and replaces the frame with `frame`. */
  draw(above: readonly string[], frame: readonly string[]): void;
  /** Erases the frame (the lines printed above it stay). */
  clear(): void;
  size(): { rows: number; columns: number };
}

/** A LiveScreen over `screen`. */
export function createLiveScreen(screen: Screen): LiveScreen {
  let height = 0;
  return {
    draw(above, frame) {
      screen.write(composeRedraw(height, above, frame));
      height = frame.length;
    },
    clear() {
      if (height > 0) screen.write(composeRedraw(height, [], []));
      height = 0;
    },
    size: () => screen.size(),
  };
}
