// The `parley` program's settings and its parse-and-exit, shared by the full
// CLI (program.ts) and the relay's bundle (relay-main.ts): both must print the
// same `parley relay --help` and exit with the same codes.
import { Command, CommanderError } from 'commander';

export function createProgram(): Command {
  return (
    new Command()
      .name('parley')
      .description(
        'Parley: voice AI behind WebRTC. One-port UDP relays at the edge, one-port transceivers in the core.',
      )
      .version('0.1.0')
      .showHelpAfterError('(add --help for usage and examples)')
      .enablePositionalOptions()
      // Set before the commands are added, so every subcommand inherits it: usage errors exit 2, not 1.
      .exitOverride()
  );
}

export async function runProgram(program: Command): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    // Commander has already printed the message (and for --help/--version, the text itself).
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
}
