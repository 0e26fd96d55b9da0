// Password hashing (argon2id) and the password policy.
import argon2 from 'argon2';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../constants';
import { COMMON_PASSWORDS } from './common-passwords';

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/**
 * Verify against a throwaway hash so that an unknown username costs about as
 * much time as a known one (no username enumeration by timing).
 */
export async function dummyVerify(password: string): Promise<void> {
  dummyHash ??= argon2.hash(`dummy-${Math.random()}`, ARGON2_OPTIONS);
  await verifyPassword(await dummyHash, password);
}

/** Returns why a password is unacceptable, or null if it is fine. */
export function passwordProblem(password: string, username?: string): string | null {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    return `Use at least ${MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good password.`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  const lower = password.toLowerCase();
  const squashed = lower.replace(/[^a-z0-9]/g, '');
  if (COMMON_PASSWORDS.has(lower) || COMMON_PASSWORDS.has(squashed) || COMMON_PASSWORDS.has(squashed.replace(/\d+$/, ''))) {
    return 'That password is too common. Choose something others would not guess.';
  }
  if (/^(.)\1*$/.test(password)) return 'That password is one character repeated. Choose something harder to guess.';
  if (isSequence(lower)) return 'That password is a simple sequence. Choose something harder to guess.';
  if (username && username.length >= 3 && lower.includes(username.toLowerCase())) {
    return 'The password must not contain the username.';
  }
  const hubWords = ['speaksafe', 'safeguarding', 'password', 'passw0rd'];
  if (hubWords.some((w) => squashed === w || squashed.replace(/\d+$/, '') === w || squashed.replace(/^\d+/, '') === w)) {
    return 'That password is too easy to guess. Choose something else.';
  }
  return null;
}

function isSequence(s: string): boolean {
  if (s.length < 4) return false;
  const up = [...s].every((c, i) => i === 0 || c.charCodeAt(0) === s.charCodeAt(i - 1) + 1);
  const down = [...s].every((c, i) => i === 0 || c.charCodeAt(0) === s.charCodeAt(i - 1) - 1);
  return up || down;
}
