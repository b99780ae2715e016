import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';

export function registerKeys(program: Command): void {
  program
    .command('keygen')
    .description('print a new routing-token key for PARLEY_TOKEN_KEYS (relays and transceivers share it)')
    .option('--id <kid>', 'key id 0-255; use a new id for each rotation', '1')
    .action((o: { id: string }) => {
      const id = Number(o.id);
      if (!Number.isInteger(id) || id < 0 || id > 255) {
        process.stderr.write('--id must be an integer 0-255\n');
        process.exit(2);
      }
      process.stdout.write(`${id}:${randomBytes(32).toString('base64')}\n`);
    });

  program
    .command('token')
    .description('mint a signaling JWT (HS256) from PARLEY_AUTH_JWT_SECRET, for testing an edge')
    .option('--subject <sub>', 'the token subject', 'dev')
    .option('--ttl <seconds>', 'lifetime in seconds', '3600')
    .action(async (o: { subject: string; ttl: string }) => {
      const secret = process.env.PARLEY_AUTH_JWT_SECRET;
      if (!secret) {
        process.stderr.write('PARLEY_AUTH_JWT_SECRET must be set\n');
        process.exit(2);
      }
      const { mintDevToken } = await import('@parley/edge/signaling/auth.js');
      process.stdout.write(
        `${await mintDevToken(secret, { subject: o.subject, ttlSeconds: Number(o.ttl) })}\n`,
      );
    });
}
