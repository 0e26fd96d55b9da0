// Secrets come from the environment. For local use (not production) a random
// set is generated once into ./data/secrets.json (mode 0600, git-ignored) so
// `npm start` works with no set-up and keeps working across restarts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

export interface Secrets {
  identityHashSecret: string;
  contactEncryptionKey: Buffer; // 32 bytes
  tokenSigningSecret: string;
}

export function resolveSecrets(config: Config): Secrets {
  let generated: Record<string, string> | undefined;
  const file = path.join(path.dirname(path.resolve(config.databaseFile)), 'secrets.json');
  const local = (name: string, make: () => string): string => {
    if (!generated) {
      generated = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
    }
    if (!generated![name]) {
      generated![name] = make();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
    }
    return generated![name];
  };
  const random = (): string => crypto.randomBytes(32).toString('base64');
  return {
    identityHashSecret: config.IDENTITY_HASH_SECRET ?? local('IDENTITY_HASH_SECRET', random),
    contactEncryptionKey: Buffer.from(config.CONTACT_ENCRYPTION_KEY ?? local('CONTACT_ENCRYPTION_KEY', random), 'base64'),
    tokenSigningSecret: config.TOKEN_SIGNING_SECRET ?? local('TOKEN_SIGNING_SECRET', random),
  };
}
