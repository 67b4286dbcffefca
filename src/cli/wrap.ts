/**
 * wrap-ansi's hard wrap (what oclif's help uses), for plain text: words move to the next line
 * when they do not fit; a word longer than the width is broken, starting on the current line
 * unless starting on the next one needs fewer breaks. Trailing spaces are trimmed.
 */
export function wrapPlain(text: string, width: number): string {
  const columns = Math.max(1, width);
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => wrapLine(line, columns))
    .join('\n');
}

function wrapLine(line: string, columns: number): string {
  if (line.trim() === '') return '';
  const rows = [''];
  line.split(' ').forEach((word, index) => {
    rows[rows.length - 1] = rows.at(-1)!.trimStart();
    let rowLength = rows.at(-1)!.length;
    if (index !== 0 && rowLength > 0) {
      rows[rows.length - 1] += ' ';
      rowLength++;
    }
    if (word.length > columns) {
      const breaksStartingThisLine = 1 + Math.floor((word.length - (columns - rowLength) - 1) / columns);
      const breaksStartingNextLine = Math.floor((word.length - 1) / columns);
      if (breaksStartingNextLine < breaksStartingThisLine) rows.push('');
      breakWord(rows, word, columns);
      return;
    }
    if (rowLength + word.length > columns && rowLength > 0 && word.length > 0) rows.push('');
    rows[rows.length - 1] += word;
  });
  return rows.map((row) => row.replace(/ +$/, '')).join('\n');
}

function breakWord(rows: string[], word: string, columns: number): void {
  let visible = rows.at(-1)!.length;
  for (let i = 0; i < word.length; i++) {
    const character = word.charAt(i);
    if (visible + 1 <= columns) rows[rows.length - 1] += character;
    else {
      rows.push(character);
      visible = 0;
    }
    visible += 1;
    if (visible === columns && i < word.length - 1) {
      rows.push('');
      visible = 0;
    }
  }
}
