// The README's runnable code: every ```js block, with the line it starts on (issue 8, item 9:
// each must run as pasted; test/package.test.ts runs them from a consumer install).
export interface CodeBlock {
  line: number;
  code: string;
}

export function jsBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```js') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    if (end === lines.length) throw new Error(`README: the js block at line ${start} is not closed`);
    blocks.push({ line: start, code: lines.slice(start, end).join('\n') + '\n' });
    i = end;
  }
  return blocks;
}
