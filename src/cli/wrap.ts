/** Greedy word wrap; words longer than the width are broken (as wrap-ansi's `hard` does). */
export function wrapPlain(text: string, width: number): string {
  const max = Math.max(1, width);
  return text
    .split('\n')
    .map((line) => {
      const words = line.trim().split(/ +/).filter(Boolean);
      const out: string[] = [];
      let current = '';
      for (let word of words) {
        while (word.length > max) {
          if (current) {
            out.push(current);
            current = '';
          }
          out.push(word.slice(0, max));
          word = word.slice(max);
        }
        if (!current) current = word;
        else if (current.length + 1 + word.length <= max) current += ` ${word}`;
        else {
          out.push(current);
          current = word;
        }
      }
      if (current || out.length === 0) out.push(current);
      return out.join('\n');
    })
    .join('\n');
}
