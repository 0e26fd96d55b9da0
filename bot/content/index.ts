// Loads everything in content/: topics (Markdown + front matter), bot copy,
// helplines, menus and the area profile. Validated on load so a content
// mistake fails at start-up with the file name, never mid-conversation.
import fs from 'node:fs';
import path from 'node:path';
import matter from 'gray-matter';
import nunjucks from 'nunjucks';
import YAML from 'yaml';
import { z } from 'zod';
import { isIntentName, type IntentName } from '../nlu/nlu';

export const AUDIENCES = ['young_person', 'parent_carer', 'landlord_housing', 'neighbour_resident', 'professional'] as const;
export type Audience = (typeof AUDIENCES)[number];

const source = z.object({ title: z.string().min(1), url: z.url() });
const topicFront = z.object({
  id: z.string().min(1),
  topic: z.string().min(1),
  audience: z.array(z.enum(AUDIENCES)).min(1),
  title: z.string().min(1),
  summary: z.string().min(1),
  sources: z.array(source).min(1),
  reviewed: z.coerce.date(),
  review_due: z.coerce.date(),
});
export type Topic = z.infer<typeof topicFront> & { body: string; file: string };

const helplineSchema = z.object({
  id: z.string(),
  name: z.string(),
  phone: z.string().nullable().optional(),
  text: z.string().nullable().optional(),
  web: z.string().nullable().optional(),
  hours: z.string().nullable().optional(),
  for: z.array(z.string()).optional(),
  description: z.string().optional(),
});
export type Helpline = z.infer<typeof helplineSchema>;
const helplinesSchema = z.object({
  emergency: z.object({ number: z.string(), alternatives: z.array(z.string()) }),
  helplines: z.array(helplineSchema).min(1),
});
export type Helplines = z.infer<typeof helplinesSchema>;

const townSchema = z.object({
  name: z.string(),
  aliases: z.array(z.string()).optional().default([]),
  postcodeDistricts: z.array(z.string()).optional().default([]),
});
const areaSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    hub: z.object({ name: z.string(), description: z.string().optional() }).passthrough(),
    towns: z.array(townSchema).min(1),
    postcodeAreas: z.array(z.string()).optional().default([]),
  })
  .passthrough();
export type Area = z.infer<typeof areaSchema>;

const words = z.array(z.string().min(1)).min(1);
const answersSchema = z.strictObject({
  skip: words,
  signs_done: words,
  contact_no: words,
  contact_yes: words,
  send: words,
  change: words,
  carry_on: words,
  leave: words,
  addendum_skip: words,
  when: z.strictObject({ now: words, today: words, this_week: words, ongoing: words, past: words }),
  during_report: z.strictObject({ back: words, restart: words, leave: words }),
});
export type Answers = z.infer<typeof answersSchema>;

const commandsSchema = z.record(z.string(), z.array(z.string().min(1)));

const menusSchema = z.object({ topicMenu: z.record(z.enum(AUDIENCES), z.array(z.string()).min(1)) });

export type Vars = Record<string, unknown>;

export class Messages {
  private readonly env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  private readonly compiled = new Map<string, nunjucks.Template>();
  constructor(
    private readonly data: Record<string, unknown>,
    private readonly globals: Vars,
  ) {}

  has(key: string): boolean {
    return typeof this.lookup(key) === 'string';
  }

  /** The message at a dotted key, rendered with the globals and `vars`. Throws on a missing key (caught by tests). */
  t(key: string, vars: Vars = {}): string {
    const raw = this.lookup(key);
    if (typeof raw !== 'string') throw new Error(`content/messages: no message "${key}"`);
    if (!raw.includes('{{') && !raw.includes('{%')) return raw.trim();
    let tpl = this.compiled.get(key);
    if (!tpl) {
      tpl = nunjucks.compile(raw, this.env);
      this.compiled.set(key, tpl);
    }
    return tpl.render({ ...this.globals, ...vars }).trim();
  }

  private lookup(key: string): unknown {
    return key.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), this.data);
  }
}

export interface Content {
  dir: string;
  /** Exact words that mean one intent whatever the classifier says (content/commands.yml). */
  commands: Map<string, IntentName>;
  /** Words typed instead of pressing a button in a report (content/answers.yml). */
  answers: Answers;
  locale: string;
  messages: Messages;
  topics: Topic[];
  helplines: Helplines;
  area: Area;
  menus: z.infer<typeof menusSchema>;
  topicFor(topic: string, audience: Audience): Topic | undefined;
  topicMenu(audience: Audience): Topic[];
}

function deepMerge(...parts: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [k, v] of Object.entries(part ?? {})) {
      const prior = out[k];
      out[k] =
        prior && typeof prior === 'object' && v && typeof v === 'object' && !Array.isArray(v)
          ? deepMerge(prior as Record<string, unknown>, v as Record<string, unknown>)
          : v;
    }
  }
  return out;
}

function readYaml(file: string): unknown {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

function parse<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Content error in ${file}:\n${issues}`);
  }
  return result.data;
}

export function resolveContentDir(dir?: string): string {
  if (dir && path.isAbsolute(dir)) return dir;
  const fromCwd = path.resolve(dir ?? 'content');
  if (fs.existsSync(fromCwd)) return fromCwd;
  // Compiled code runs from dist/; content stays at the repository root.
  for (const base of [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')]) {
    const candidate = path.join(base, dir ?? 'content');
    if (fs.existsSync(candidate)) return candidate;
  }
  return fromCwd;
}

export function loadTopics(dir: string): Topic[] {
  const topicsDir = path.join(dir, 'topics');
  return fs
    .readdirSync(topicsDir)
    .filter((f) => f.endsWith('.md') && !f.startsWith('_') && f.toLowerCase() !== 'readme.md')
    .sort()
    .map((f) => {
      const file = path.join(topicsDir, f);
      const parsed = matter(fs.readFileSync(file, 'utf8'));
      return { ...parse(topicFront, parsed.data, file), body: parsed.content.trim(), file };
    });
}

export function loadContent(options: { dir?: string; area?: string; locale?: string } = {}): Content {
  const dir = resolveContentDir(options.dir);
  const locale = options.locale ?? 'en';
  const areaId = options.area ?? 'dorset';
  const areaFile = path.join(dir, 'areas', `${areaId}.yml`);
  if (!fs.existsSync(areaFile)) throw new Error(`AREA=${areaId}: no area profile at ${areaFile}`);
  const area = parse(areaSchema, readYaml(areaFile), areaFile);
  const helplinesFile = path.join(dir, 'helplines.yml');
  const helplines = parse(helplinesSchema, readYaml(helplinesFile), helplinesFile);
  const menusFile = path.join(dir, 'menus.yml');
  const menus = parse(menusSchema, readYaml(menusFile), menusFile);
  const topics = loadTopics(dir);
  const messagesFile = path.join(dir, 'messages', `${locale}.yml`);
  const byId = new Map(helplines.helplines.map((h) => [h.id, h]));
  const number = (id: string): string => byId.get(id)?.phone ?? byId.get(id)?.text ?? '';
  const globals: Vars = {
    emergency: helplines.emergency.number,
    emergencyAlternatives: helplines.emergency.alternatives.join('; '),
    childline: number('childline'),
    crimestoppers: number('crimestoppers'),
    safecall: number('safecall') || number('missing_people'),
    nspcc: number('nspcc'),
    samaritans: number('samaritans'),
    police101: number('police_non_emergency') || '101',
    hubName: area.hub.name,
    areaName: area.name,
  };
  // messages/<locale>.yml plus any messages/<locale>.<part>.yml, merged.
  const extra = fs
    .readdirSync(path.join(dir, 'messages'))
    .filter((f) => f.startsWith(`${locale}.`) && f.endsWith('.yml') && f !== `${locale}.yml`)
    .sort()
    .map((f) => readYaml(path.join(dir, 'messages', f)) as Record<string, unknown>);
  const messages = new Messages(deepMerge(readYaml(messagesFile) as Record<string, unknown>, ...extra), globals);

  const topicFor = (topic: string, audience: Audience): Topic | undefined =>
    topics.find((t) => t.topic === topic && t.audience.includes(audience));
  for (const [aud, keys] of Object.entries(menus.topicMenu)) {
    for (const key of keys) {
      if (!topicFor(key, aud as Audience)) throw new Error(`Content error in ${menusFile}: no topic "${key}" for ${aud}`);
    }
  }
  const commandsFile = path.join(dir, 'commands.yml');
  const commands = new Map<string, IntentName>();
  for (const [intent, words] of Object.entries(parse(commandsSchema, readYaml(commandsFile), commandsFile))) {
    if (!isIntentName(intent)) throw new Error(`Content error in ${commandsFile}: unknown intent "${intent}"`);
    for (const w of words) commands.set(w.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, '').replace(/\s+/g, ' ').trim(), intent);
  }
  const answersFile = path.join(dir, 'answers.yml');
  const answers = parse(answersSchema, readYaml(answersFile), answersFile);
  return {
    dir,
    commands,
    answers,
    locale,
    messages,
    topics,
    helplines,
    area,
    menus,
    topicFor,
    topicMenu: (audience) => (menus.topicMenu[audience] ?? []).map((k) => topicFor(k, audience)!).filter(Boolean),
  };
}
