/**
 * Kafka's schema files are JSON with `//` line comments (and, rarely, block comments). This strips them
 * while leaving string contents alone, so an `about` text holding "http://" survives.
 */
export function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < n && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      // Keep line breaks so JSON parse errors still point at the right line.
      const body = text.slice(i, end < 0 ? n : end + 2);
      out += body.replace(/[^\n]/g, " ");
      i = end < 0 ? n : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
