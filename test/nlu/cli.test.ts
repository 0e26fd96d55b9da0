import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function run(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join('bot', 'nlu', 'cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'development' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('nlu CLI --jsonl', () => {
  it('writes exactly one JSON line per input line and nothing else', async () => {
    const input = ['{"text": "ma olders sed i owe em 2 bags"}', 'this is not json', '{"text": "wot is cuckooing"}'].join('\n') + '\n';
    const { code, stdout } = await run(['--jsonl'], input);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[lines.length - 1]).toBe(''); // output ends with a newline
    const out = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ text: 'ma olders sed i owe em 2 bags', intent: 'help.self', score: expect.any(Number) });
    expect(out[1]).toEqual({ text: null, error: expect.any(String) });
    expect(out[2]).toMatchObject({ text: 'wot is cuckooing', intent: 'learn.cuckooing' });
    expect(Object.keys(out[0]!).sort()).toEqual(['intent', 'score', 'text']);
  }, 60_000);

  it('one-shot mode prints the result for the given text', async () => {
    const { code, stdout } = await run(['hiya'], '');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ text: 'hiya', intent: 'nav.greeting' });
  }, 60_000);
});
