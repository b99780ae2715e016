import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { integerIn, word } from './flag-parsers.js';

interface TokenFlags {
  subject: string;
  ttl: number;
  agent?: string;
  issuer?: string;
  audience?: string;
}

export function registerKeys(program: Command): void {
  program
    .command('keygen')
    .description('print a new routing-token key for PARLEY_TOKEN_KEYS (relays and transceivers share it)')
    .option('--id <kid>', 'key id 0-255; use a new id for each rotation', integerIn(0, 255), 1)
    .addHelpText(
      'after',
      '\nPrints "<id>:<32 random bytes, base64>". PARLEY_TOKEN_KEYS takes a comma-separated list: the first\n' +
        'key signs, every key verifies, so a rotation adds the new key first and drops the old one later.\n' +
        '\nExamples:\n' +
        '  export PARLEY_TOKEN_KEYS=$(parley keygen)\n' +
        '  export PARLEY_TOKEN_KEYS="$(parley keygen --id 2),$PARLEY_TOKEN_KEYS"    # rotate',
    )
    .action((o: { id: number }) => {
      process.stdout.write(`${o.id}:${randomBytes(32).toString('base64')}\n`);
    });

  program
    .command('token')
    .description('mint a signaling JWT (HS256) from PARLEY_AUTH_JWT_SECRET, as an application backend would')
    .option('--subject <sub>', 'the token subject (logged with the session)', word(256), 'dev')
    .option('--ttl <seconds>', 'lifetime in seconds (1-604800)', integerIn(1, 604_800), 3600)
    .option('--agent <name>', 'bind the session to this agent (the parley_agent claim)', word(64))
    .option('--issuer <iss>', 'iss claim (default: PARLEY_AUTH_JWT_ISSUER when set)', word(256))
    .option('--audience <aud>', 'aud claim (default: PARLEY_AUTH_JWT_AUDIENCE when set)', word(256))
    .addHelpText(
      'after',
      '\nThe secret comes only from the environment (PARLEY_AUTH_JWT_SECRET, 32+ characters), never a flag.\n' +
        '`parley dev` prints the line that sets it for its edge ("export PARLEY_AUTH_JWT_SECRET=...").\n' +
        'An agent named with --agent overrides ?agent= on POST /v1/sessions.\n' +
        '\nExamples:\n' +
        '  parley token\n' +
        '  parley token --subject alice --ttl 600 --agent grpc\n' +
        '  PARLEY_TOKEN=$(parley token) parley call http://127.0.0.1:8080',
    )
    .action(async (o: TokenFlags) => {
      const secret = process.env.PARLEY_AUTH_JWT_SECRET;
      if (!secret) {
        process.stderr.write(
          "PARLEY_AUTH_JWT_SECRET must be set (the edge's HS256 secret; `parley dev` prints the line to export)\n",
        );
        process.exit(2);
      }
      const { mintDevToken, MIN_SECRET_LENGTH } = await import('@parley/edge/signaling/auth.js');
      // The edge's own limit: a shorter secret would mint tokens no edge accepts.
      if (secret.length < MIN_SECRET_LENGTH) {
        process.stderr.write(`PARLEY_AUTH_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters\n`);
        process.exit(2);
      }
      const issuer = o.issuer ?? (process.env.PARLEY_AUTH_JWT_ISSUER || undefined);
      const audience = o.audience ?? (process.env.PARLEY_AUTH_JWT_AUDIENCE || undefined);
      const token = await mintDevToken(secret, {
        subject: o.subject,
        ttlSeconds: o.ttl,
        ...(o.agent !== undefined && { agent: o.agent }),
        ...(issuer !== undefined && { issuer }),
        ...(audience !== undefined && { audience }),
      });
      process.stdout.write(`${token}\n`);
    });
}
