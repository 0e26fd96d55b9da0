// Keyed hashing of channel identities and AES-256-GCM for volunteered contact details.
import crypto from 'node:crypto';

/**
 * HMAC-SHA-256 of an identity (phone number, channel user id), base64url. Not
 * reversible without the secret. `bytes` keeps only the first bytes of the MAC
 * (for in-memory keys, where 16 bytes are plenty and memory counts).
 */
export function keyedHash(secret: string, purpose: string, value: string, bytes = 32): string {
  return crypto.createHmac('sha256', secret).update(`${purpose}\u0000${value}`).digest().toString('base64url', 0, bytes);
}

export interface Sealed {
  ciphertext: string;
  iv: string;
  tag: string;
  keyId: string;
}

export function keyId(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    ciphertext: ciphertext.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    keyId: keyId(key),
  };
}

export function open(key: Buffer, sealed: Sealed, aad: string): string {
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
}
