// Summarise CPU profiles: `npx tsx bench/profile.ts <file.cpuprofile>… [--top=25]`.
import path from 'node:path';
import { formatProfile, summariseProfile } from './lib/profile';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('--'));
const top = Number(args.find((a) => a.startsWith('--top='))?.slice('--top='.length) ?? 25);
if (!files.length || !Number.isInteger(top) || top <= 0) {
  process.stderr.write('usage: npx tsx bench/profile.ts <file.cpuprofile>… [--top=25]\n');
  process.exit(2);
}
for (const file of files) {
  const summary = summariseProfile(file, path.resolve(__dirname, '..'), top);
  process.stdout.write(`${path.basename(file)}\n${formatProfile(summary)}\n\n`);
}
