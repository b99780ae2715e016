/**
 * `--help` and unknown-option checks for the turn-taking scripts (heldout,
 * train-talker, train-eot), which read a handful of flags straight from argv:
 * a mistyped flag must not start a minutes-long run with the defaults.
 * Returns what to do; the caller prints and exits (kept pure for tests).
 */
export function checkScriptArgs(
  argv: readonly string[],
  usage: string,
  known: readonly string[],
): { exit: 0 | 2; out: string } | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return { exit: 0, out: usage };
  // A negative number (`--threshold -0.75`) is a value, not an option.
  const unknown = argv.filter((a) => a.startsWith('-') && !/^-\d/.test(a) && !known.includes(a));
  if (unknown.length > 0) return { exit: 2, out: `unknown option ${unknown.join(', ')}\n\n${usage}` };
  return undefined;
}

/** checkScriptArgs on process.argv, printing and exiting when it says so. */
export function handleScriptArgs(usage: string, known: readonly string[]): void {
  const r = checkScriptArgs(process.argv.slice(2), usage, known);
  if (r === undefined) return;
  (r.exit === 0 ? process.stdout : process.stderr).write(`${r.out.trimEnd()}\n`);
  process.exit(r.exit);
}
