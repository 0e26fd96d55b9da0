/**
 * Pulling intelligence details (phone numbers, vehicles, postcodes, addresses,
 * names / nicknames / line names, social media handles) out of a reporter's
 * messy free text. Pure functions; no network.
 *
 * Normal forms:
 *   phones     "+447700900123" (UK numbers only: 01, 02, 03, 05 and 07 ranges;
 *              freephone / premium 08 and 09 numbers such as helplines are ignored;
 *              partial numbers such as "07xxx" are ignored)
 *   vehicles   "AB12CDE" (current format; older prefix "A123BCD" and suffix
 *              "ABC123D" formats only next to a word like "car", "reg" or "plate")
 *   postcodes  "BH1 4AA" for full postcodes, "BH1" for districts on their own
 *   addresses  "Flat 3, 23 Alma Road", "5 High Street", "Flat 12B", "Alma Road"
 *   names      "Tiny", "K-Dog", "Big M", and line names as "Bandz line"
 *   handles    "@trapkid99" (platform unknown) or "snapchat:xyz"
 * Each list is de-duplicated and in order of first appearance.
 */
import type { Entities } from './types';

/** Longest text scanned. */
export const MAX_EXTRACT_CHARS = 20000;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

type Span = [number, number];

function overlaps(spans: readonly Span[], start: number, end: number): boolean {
  return spans.some(([s, e]) => start < e && end > s);
}

/** Every match, including ones that start inside an earlier match (a rejected match must not hide a later one). */
function* overlappingMatches(re: RegExp, text: string): Generator<RegExpExecArray> {
  const r = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let m: RegExpExecArray | null;
  while ((m = r.exec(text)) !== null) {
    yield m;
    r.lastIndex = m.index + 1;
  }
}

function pushUnique(list: string[], value: string): void {
  if (!list.some((v) => v.toLowerCase() === value.toLowerCase())) list.push(value);
}

/** Same length as the input: curly quotes, dashes and odd spaces made plain. */
function plain(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201A\u201B\u2032\u0060\u00B4]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u00A0\u2000-\u200B\u202F\u205F\u3000]/g, ' ');
}

function titleCase(word: string): string {
  if (!word) return word;
  // "TINY" (shouting) → "Tiny", so the same name links across referrals; "JJ", "K-DOG" parts of 1–2 letters stay.
  if (/^[A-Z][A-Z'-]{2,}$/.test(word.replace(/\s+/g, '')) && /[A-Z]{3}/.test(word)) word = word.toLowerCase();
  if (word !== word.toLowerCase()) return word; // keep the reporter's own capitals ("K-Dog", "BIG M")
  return word
    .split(/([\s-])/)
    .map((p) => (p.length ? (p[0] as string).toUpperCase() + p.slice(1) : p))
    .join('');
}

/** Common words that are never names, handles or street names on their own. */
const STOP = new Set(
  (
    'i me my mine myself you your yours yourself u ur he him his himself she her hers herself it its itself we us our ours ' +
    'they them their theirs themselves themself a an the and or but if so to too of in on at by for from with about as into ' +
    'like through after before over under between out up down off again then once here there when where why how all any both ' +
    'each few more most other some such no nor not only own same than very can will just dont do does did doing done should ' +
    'now this that these those is am are was were be been being have has had having would could might must shall may what ' +
    'which who whom whose yes yeah yep nope ok okay lol idk dunno please thanks cheers hi hello hey im ive id ill youre hes ' +
    'shes theyre theres thats whats its mate bro bruv man guy guys lad lads boy boys girl girls woman women kid kids bloke ' +
    'someone somebody anyone anybody nobody everyone everybody people person police cops feds mum mom dad mummy daddy nan ' +
    'nana gran grandad grandma brother sister son daughter cousin cousins uncle auntie aunt friend friends mates family ' +
    'neighbour neighbours thing things stuff something nothing everything one two three four five really never always also ' +
    'still even well back home going gonna gotta wanna got get gets go goes went gone said says say tell told know knew ' +
    'think see saw seen want need because cause cos coz else around near next last first every whole ' +
    'unknown none nothing name names line lines number numbers phone phones deal dealer dealers drugs drug weed money cash ' +
    'car cars bus train taxi bike foot walking school work today tonight tomorrow yesterday morning night week weekend ' +
    'childline crimestoppers fearless nspcc samaritans ambulance council social services hospital doctor teacher ' +
    'snap snapchat insta instagram tiktok telegram wickr discord kik twitter facebook whatsapp signal online ' +
    'monday tuesday wednesday thursday friday saturday sunday twice again later earlier loads lots straight ' +
    'immediately already maybe yet soon sometimes often'
  ).split(/\s+/),
);

function isStop(word: string): boolean {
  return STOP.has(word.toLowerCase().replace(/['.]/g, ''));
}

// ---------------------------------------------------------------------------
// Phones
// ---------------------------------------------------------------------------

const DIGIT_RUN = /(?<![A-Za-z0-9+])\+?\(?\d+(?:[ \t.\-()]{1,3}\d+)*\)?/g;

function parsePhoneAt(groups: readonly string[], i: number, plus: boolean): { phone: string; next: number } | null {
  const first = groups[i] as string;
  let prefixLen: number;
  if (plus && first.startsWith('44')) prefixLen = 2;
  else if (first.startsWith('0044')) prefixLen = 4;
  else if (first.startsWith('0')) prefixLen = 0;
  else if (first.length === 12 && first.startsWith('447')) prefixLen = 2; // "447700900123" copied without the +
  else return null;
  let acc = '';
  let j = i;
  const needed = (): number => {
    if (prefixLen === 0) return 11;
    const rest = acc.slice(prefixLen);
    return prefixLen + 10 + (rest.startsWith('0') ? 1 : 0); // "+44 (0) 7700 ..."
  };
  while (j < groups.length && acc.length < needed()) {
    acc += groups[j];
    j += 1;
  }
  if (acc.length !== needed()) return null; // ran out, or a group ran past the end of a number
  let nsn = acc.slice(prefixLen);
  if (nsn.startsWith('0')) nsn = nsn.slice(1);
  if (nsn.length !== 10 || !/^[12357]/.test(nsn)) return null;
  return { phone: `+44${nsn}`, next: j };
}

function extractPhones(text: string, out: string[], spans: Span[]): void {
  for (const m of text.matchAll(DIGIT_RUN)) {
    const run = m[0];
    const groups = run.match(/\d+/g) ?? [];
    let i = 0;
    while (i < groups.length) {
      const parsed = parsePhoneAt(groups, i, i === 0 && run.startsWith('+'));
      if (parsed) {
        pushUnique(out, parsed.phone);
        i = parsed.next;
      } else {
        i += 1;
      }
    }
    if (groups.join('').length >= 10) spans.push([m.index ?? 0, (m.index ?? 0) + run.length]);
  }
}

// ---------------------------------------------------------------------------
// Postcodes
// ---------------------------------------------------------------------------

/** UK postcode areas (the letters at the start of a postcode). */
const POSTCODE_AREAS = new Set(
  (
    'AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G GL ' +
    'GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX ' +
    'PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN ' +
    'WR WS WV YO ZE'
  ).split(' '),
);

const OUTWARD = /^([A-Z]{1,2})(\d)([A-Z\d]?)$/;

function outwardOk(outward: string): boolean {
  const m = OUTWARD.exec(outward);
  if (!m) return false;
  const [, area, , third] = m as unknown as [string, string, string, string];
  if (!POSTCODE_AREAS.has(area)) return false;
  if (third && /[A-Z]/.test(third)) {
    // A9A districts use ABCDEFGHJKPSTUW; AA9A districts use ABEHMNPRVWXY.
    const allowed = area.length === 1 ? 'ABCDEFGHJKPSTUW' : 'ABEHMNPRVWXY';
    if (!allowed.includes(third)) return false;
  }
  return true;
}

/**
 * A UK postcode district (outward code) such as "DT4", "bh1", " SP7 ", in its
 * normal form ("DT4"), or null if it is not one. Full postcodes return null
 * (use postcodeDistrictOf).
 */
export function validatePostcodeDistrict(s: string): string | null {
  if (typeof s !== 'string') return null;
  const t = s
    .trim()
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .toUpperCase();
  if (t.length < 2 || t.length > 4 || /\s/.test(t)) return null;
  return outwardOk(t) ? t : null;
}

const INWARD = /^\d[ABD-HJLNP-UW-Z]{2}$/; // inward letters never use C I K M O V

/** The district of a full postcode ("bh14aa" → "BH1") or of a district itself; null if neither. */
export function postcodeDistrictOf(postcode: string): string | null {
  if (typeof postcode !== 'string') return null;
  const t = postcode.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (t.length >= 5 && t.length <= 7) {
    const outward = t.slice(0, -3);
    const inward = t.slice(-3);
    if (INWARD.test(inward) && outwardOk(outward)) return outward;
  }
  return validatePostcodeDistrict(t);
}

/** "bh1 4aa" → "BH1 4AA"; null if not a valid full postcode. */
export function normalisePostcode(postcode: string): string | null {
  const t = postcode.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (t.length < 5 || t.length > 7) return null;
  const outward = t.slice(0, -3);
  const inward = t.slice(-3);
  return INWARD.test(inward) && outwardOk(outward) ? `${outward} ${inward}` : null;
}

const FULL_POSTCODE = /(?<![A-Za-z0-9])([A-Za-z]{1,2}\d[A-Za-z\d]?)[ \t]{0,2}(\d[A-Za-z]{2})(?![A-Za-z0-9])/g;
const DISTRICT = /(?<![A-Za-z0-9@#£$.])([A-Za-z]{1,2}\d[A-Za-z\d]?)(?![A-Za-z0-9])/g;
/** Districts that are more often something else ("b4" before, "sk8" skate, "co2", "ch4" the TV channel). */
const DISTRICT_NOT = new Set(['B4', 'M8', 'L8', 'W8', 'ME2', 'ME3', 'SK8', 'CO2', 'CH4']);

function extractPostcodes(text: string, out: string[], spans: Span[]): void {
  const outwards = new Set<string>();
  for (const m of text.matchAll(FULL_POSTCODE)) {
    const pc = normalisePostcode(`${m[1]}${m[2]}`);
    if (!pc || overlaps(spans, m.index ?? 0, (m.index ?? 0) + m[0].length)) continue;
    pushUnique(out, pc);
    outwards.add(pc.split(' ')[0] as string);
    spans.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
  }
  for (const m of text.matchAll(DISTRICT)) {
    const start = m.index ?? 0;
    const raw = m[1] as string;
    if (overlaps(spans, start, start + raw.length)) continue;
    const d = validatePostcodeDistrict(raw);
    if (!d || outwards.has(d) || DISTRICT_NOT.has(d)) continue;
    const area = (OUTWARD.exec(d) as RegExpExecArray)[1] as string;
    if (area.length === 1) {
      // "e1", "m4", "b2" are too often not postcodes: need capitals and a place word before it.
      const before = text.slice(Math.max(0, start - 24), start).toLowerCase();
      if (raw !== raw.toUpperCase() || !/\b(?:postcode|post code|area|in|near|around|round|from|district)\s*:?\s*$/.test(before)) continue;
    }
    pushUnique(out, d);
    outwards.add(d);
    spans.push([start, start + raw.length]);
  }
}

// ---------------------------------------------------------------------------
// Vehicles
// ---------------------------------------------------------------------------

const CURRENT_REG = /(?<![A-Za-z0-9@_#.])([A-Za-z]{2})(\d{2})[ \t]?([A-Za-z]{3})(?![A-Za-z0-9])/g;
const PREFIX_REG = /(?<![A-Za-z0-9@_#.])([A-Za-z])(\d{1,3})[ \t]?([A-Za-z]{3})(?![A-Za-z0-9])/g;
const SUFFIX_REG = /(?<![A-Za-z0-9@_#.])([A-Za-z]{3})[ \t]?(\d{1,3})[ \t]?([A-Za-z])(?![A-Za-z0-9])/g;
const VEHICLE_CONTEXT = /\b(?:reg|regs|registration|plate|plates|number ?plate|car|cars|van|vans|motor|vehicle|motorbike|moped|bike|taxi|merc|mercedes|bmw|audi|vw|golf|corsa|fiesta|focus|range ?rover|honda|toyota|ford|vauxhall|nissan)\b/i;

function ageIdentifierOk(d: string): boolean {
  const n = Number(d);
  return (n >= 2 && n <= 39) || (n >= 51 && n <= 89);
}

function extractVehicles(text: string, out: string[], taken: Span[]): void {
  const found: { at: number; reg: string }[] = [];
  for (const m of text.matchAll(CURRENT_REG)) {
    const start = m.index ?? 0;
    const [, area, age, rand] = m as unknown as [string, string, string, string];
    const A = area.toUpperCase();
    const R = rand.toUpperCase();
    if (overlaps(taken, start, start + m[0].length)) continue;
    if (/[IQZ]/.test(A[0] as string) || /[IQ]/.test(A) || /[IQ]/.test(R) || !ageIdentifierOk(age)) continue;
    found.push({ at: start, reg: `${A}${age}${R}` });
    taken.push([start, start + m[0].length]);
  }
  const contextBefore = (start: number, end: number): boolean =>
    VEHICLE_CONTEXT.test(text.slice(Math.max(0, start - 40), start)) || VEHICLE_CONTEXT.test(text.slice(end, end + 20));
  for (const m of text.matchAll(PREFIX_REG)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const [, letter, digits, rest] = m as unknown as [string, string, string, string];
    if (overlaps(taken, start, end) || isStop(rest) || !contextBefore(start, end)) continue;
    const L = letter.toUpperCase();
    const R = rest.toUpperCase();
    if (/[IOQUZ]/.test(L) || /[IQ]/.test(R) || digits.startsWith('0')) continue;
    found.push({ at: start, reg: `${L}${digits}${R}` });
    taken.push([start, end]);
  }
  for (const m of text.matchAll(SUFFIX_REG)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const [, letters, digits, suffix] = m as unknown as [string, string, string, string];
    if (overlaps(taken, start, end) || isStop(letters) || !contextBefore(start, end)) continue;
    const L = letters.toUpperCase();
    const S = suffix.toUpperCase();
    if (/[IQ]/.test(L) || /[IOQUZ]/.test(S) || digits.startsWith('0')) continue;
    found.push({ at: start, reg: `${L}${digits}${S}` });
    taken.push([start, end]);
  }
  found.sort((a, b) => a.at - b.at).forEach((f) => pushUnique(out, f.reg));
}

// ---------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------

const PLATFORMS: Record<string, string> = {
  snap: 'snapchat',
  snapchat: 'snapchat',
  sc: 'snapchat',
  insta: 'instagram',
  instagram: 'instagram',
  ig: 'instagram',
  tiktok: 'tiktok',
  'tik tok': 'tiktok',
  telegram: 'telegram',
  tg: 'telegram',
  wickr: 'wickr',
  discord: 'discord',
  kik: 'kik',
  twitter: 'twitter',
  facebook: 'facebook',
  fb: 'facebook',
};
const SHORT_PLATFORMS = new Set(['sc', 'ig', 'tg', 'fb']);

const PLATFORM_HANDLE =
  /(?<![A-Za-z0-9])(snapchat|snap|sc|instagram|insta|ig|tik ?tok|telegram|tg|wickr|discord|kik|twitter|facebook|fb)(?![A-Za-z0-9])((?:\s*(?:user ?name|username|handle|name|account|acc|id|is|it'?s|=|:|-))*)\s*(@?)([A-Za-z0-9_][A-Za-z0-9_.\-]{1,29})/gi;
const BARE_HANDLE = /(?<![A-Za-z0-9_.@])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)/g;

function cleanHandle(h: string): string {
  return h.replace(/[.\-]+$/, '').toLowerCase();
}

function extractHandles(text: string, out: string[], spans: Span[]): void {
  const found: { at: number; value: string }[] = [];
  for (const m of text.matchAll(PLATFORM_HANDLE)) {
    const start = m.index ?? 0;
    const platformRaw = (m[1] as string).toLowerCase().replace(/\s+/g, ' ');
    const platform = PLATFORMS[platformRaw] ?? PLATFORMS[platformRaw.replace(' ', '')] ?? platformRaw;
    const separated = (m[2] ?? '').trim().length > 0 || m[3] === '@';
    const handle = cleanHandle(m[4] as string);
    if (handle.length < 2 || isStop(handle) || PLATFORMS[handle] !== undefined) continue;
    if (!separated && (SHORT_PLATFORMS.has(platformRaw) || !/[\d_.]/.test(handle))) continue;
    if (/^\d+$/.test(handle) && !separated) continue;
    found.push({ at: start, value: `${platform}:${handle}` });
    spans.push([start, start + m[0].length]);
  }
  for (const m of text.matchAll(BARE_HANDLE)) {
    const start = m.index ?? 0;
    if (overlaps(spans, start, start + m[0].length)) continue;
    const handle = cleanHandle(m[1] as string);
    if (handle.length < 2 || /^\d{1,2}(?:[.:]\d{2})?(?:am|pm)?$/.test(handle) || /^\d+$/.test(handle)) continue;
    found.push({ at: start, value: `@${handle}` });
    spans.push([start, start + m[0].length]);
  }
  found.sort((a, b) => a.at - b.at).forEach((f) => pushUnique(out, f.value));
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

const STREET_ABBR: Record<string, string> = {
  rd: 'Road',
  st: 'Street',
  ave: 'Avenue',
  av: 'Avenue',
  ln: 'Lane',
  cl: 'Close',
  dr: 'Drive',
  cres: 'Crescent',
  ct: 'Court',
  gdns: 'Gardens',
  pl: 'Place',
  tce: 'Terrace',
  terr: 'Terrace',
  sq: 'Square',
  gr: 'Grove',
  pde: 'Parade',
};
const STREET_WORDS =
  'road|street|avenue|lane|close|drive|way|crescent|court|gardens|place|terrace|grove|hill|square|park|parade|mews|walk|row|rise|view|green|estate|house|towers|tower|heights|parkway|quay|wharf|chase|fields|meadow|drove|vale|gate|boulevard';
const STREET_ANY = `(?:${STREET_WORDS}|${Object.keys(STREET_ABBR).join('|')})`;
/** Street types trusted after "on", "in", "near"... even in lower case. */
const STRONG_STREET = new Set(['road', 'street', 'avenue', 'lane', 'close', 'drive', 'crescent', 'terrace', 'gardens', 'mews', 'parade', 'grove', 'court', 'place', 'square', 'rd', 'st', 'ave', 'ln']);
const FLAT_WORDS = 'flat|apartment|apt|unit|room|bedsit|maisonette';
const FLAT_LABEL: Record<string, string> = {
  flat: 'Flat',
  apartment: 'Apartment',
  apt: 'Apartment',
  unit: 'Unit',
  room: 'Room',
  bedsit: 'Bedsit',
  maisonette: 'Maisonette',
};
const NUM = '\\d{1,4}[A-Za-z]?';
/** Words that follow a number without being a street name ("2 bags", "10 mins walk"). */
const NOT_STREET_NAME = new Set(
  (
    'min mins minute minutes hour hours hr hrs day days week weeks month months year years yr yrs quid pound pounds grand ' +
    'k g gram grams kilo bag bags lads boys girls men kids people times phones cars bikes houses flats doors floor floors ' +
    'storey story second seconds mile miles metres meters yards steps am pm oclock percent bed beds bedroom bedrooms ' +
    'bedroomed nans nan mums dads mates friends teenagers youngsters blokes guys'
  ).split(' '),
);

const NUMBERED_ADDRESS = new RegExp(
  `(?<![A-Za-z0-9])(?:(${FLAT_WORDS})\\.?\\s*(?:no\\.?\\s*|number\\s*|#\\s*)?(${NUM})\\s*,?\\s+)?(?:(?:no\\.?|number|num|#)\\s*)?(${NUM})\\s*,?\\s+((?:[A-Za-z][A-Za-z'.\\-]*\\s+){1,3}?)(${STREET_ANY})(?![A-Za-z0-9])\\.?`,
  'gi',
);
const PLACE_ADDRESS = new RegExp(
  `(?<![A-Za-z0-9])(?:on|in|at|off|near|down|up|along|by|from|round|around|opposite|behind|outside|to)\\s+((?:[A-Za-z][A-Za-z'.\\-]*\\s+){1,3}?)(${STREET_ANY})(?![A-Za-z0-9])`,
  'gi',
);
const FLAT_ONLY = new RegExp(`(?<![A-Za-z0-9])(${FLAT_WORDS})\\.?\\s*(?:no\\.?\\s*|number\\s*|#\\s*)?(${NUM})(?![A-Za-z0-9])`, 'gi');
const FLAT_BEFORE = new RegExp(`(?<![A-Za-z0-9])(${FLAT_WORDS})\\.?\\s*(?:no\\.?\\s*|number\\s*|#\\s*)?$`, 'i');
const HOUSE_NUMBER = new RegExp(`(?<![A-Za-z0-9])(?:at|lives at|living at|staying at)\\s+(?:no\\.?|number|num|#)\\s*(${NUM})(?![A-Za-z0-9])`, 'gi');

function streetType(t: string): string {
  const lower = t.toLowerCase().replace(/\.$/, '');
  return STREET_ABBR[lower] ?? (lower[0] as string).toUpperCase() + lower.slice(1);
}

function nameWordsOk(words: string[]): boolean {
  return words.length > 0 && words.every((w) => !isStop(w) && !NOT_STREET_NAME.has(w.toLowerCase().replace(/[.']/g, '')) && /[a-z]/i.test(w));
}

function houseNumber(n: string): string {
  return n.toUpperCase();
}

function extractAddresses(text: string, out: string[]): void {
  const found: { at: number; value: string }[] = [];
  const taken: Span[] = [];
  const add = (start: number, end: number, value: string): void => {
    found.push({ at: start, value });
    taken.push([start, end]);
  };

  for (const m of overlappingMatches(NUMBERED_ADDRESS, text)) {
    const start = m.index;
    if (overlaps(taken, start, start + m[0].length)) continue;
    const [, flatWord, flatNo, num, nameRaw, type] = m as unknown as [string, string | undefined, string | undefined, string, string, string];
    const words = nameRaw.trim().split(/\s+/);
    if (!nameWordsOk(words)) continue;
    const street = `${houseNumber(num)} ${words.map((w) => titleCase(w.toLowerCase())).join(' ')} ${streetType(type)}`;
    if (flatWord && flatNo) {
      add(start, start + m[0].length, `${FLAT_LABEL[flatWord.toLowerCase()] ?? 'Flat'} ${houseNumber(flatNo)}, ${street}`);
      continue;
    }
    // "flat 3 Alma Court": the number is the flat's.
    const sliceStart = Math.max(0, start - 20);
    const before = FLAT_BEFORE.exec(text.slice(sliceStart, start));
    if (before) {
      const flatStart = sliceStart + before.index;
      const building = `${words.map((w) => titleCase(w.toLowerCase())).join(' ')} ${streetType(type)}`;
      add(flatStart, start + m[0].length, `${FLAT_LABEL[(before[1] as string).toLowerCase()] ?? 'Flat'} ${houseNumber(num)}, ${building}`);
      continue;
    }
    add(start, start + m[0].length, street);
  }
  for (const m of overlappingMatches(PLACE_ADDRESS, text)) {
    const nameRaw = m[1] as string;
    const type = m[2] as string;
    const start = (m.index ?? 0) + m[0].length - nameRaw.length - type.length;
    const end = (m.index ?? 0) + m[0].length;
    if (overlaps(taken, start, end)) continue;
    const words = nameRaw.trim().split(/\s+/);
    if (words.length > 1 && /^the$/i.test(words[0] as string)) words.shift(); // "in the Alma Road flats"
    if (!nameWordsOk(words)) continue;
    const capitalised = words.every((w) => /^[A-Z]/.test(w));
    if (!capitalised && !STRONG_STREET.has(type.toLowerCase())) continue;
    add(start, end, `${words.map((w) => titleCase(w.toLowerCase())).join(' ')} ${streetType(type)}`);
  }
  for (const m of text.matchAll(FLAT_ONLY)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (overlaps(taken, start, end)) continue;
    const next = /^\s*([A-Za-z]+)/.exec(text.slice(end));
    if (next && NOT_STREET_NAME.has((next[1] as string).toLowerCase())) continue; // "flat 5 quid"
    add(start, end, `${FLAT_LABEL[(m[1] as string).toLowerCase()] ?? 'Flat'} ${houseNumber(m[2] as string)}`);
  }
  for (const m of text.matchAll(HOUSE_NUMBER)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (overlaps(taken, start, end)) continue;
    add(start, end, `Number ${houseNumber(m[1] as string)}`);
  }
  found.sort((a, b) => a.at - b.at).forEach((f) => pushUnique(out, f.value));
}

// ---------------------------------------------------------------------------
// Names, nicknames and line names
// ---------------------------------------------------------------------------

/** Words that often start a nickname and let a second lower-case word join it ("big m"). */
const NAME_PREFIXES = new Set(['big', 'lil', 'little', 'young', 'yung', 'baby', 'mad', 'small', 'lil\'', 'old', 'older']);
/** "the X line" where X is not a line name. */
const LINE_NOT = new Set(
  (
    'deal dealing drug drugs phone work same main other county bus train tube front help land new old whole first last next ' +
    'this that finish bottom top red blue green picket dotted punch chat hot fishing washing party time bread poverty ' +
    'dotted straight single one clothes production assembly wrong right long short thin fine outside customer ' +
    'finishing starting dividing'
  ).split(' '),
);
const LINE_WORDS_AFTER_NAME = new Set(['deal', 'phone', 'work', 'drug', 'drugs', 'county']);

interface Trigger {
  re: RegExp;
  strong: boolean; // a lower-case single word may be a name after it
  suffix?: string;
}

const TRIGGERS: Trigger[] = [
  { re: /\bline\s+(?:is\s+)?(?:called|named)\b|\bline\s+name\s+(?:is\s+)?/gi, strong: true, suffix: ' line' },
  { re: /\b(?:call|calls|called|calling)\s+(?:him|her|them|me|himself|herself|themselves|themself)\b/gi, strong: true },
  { re: /\b(?:known|know)\s+as\b/gi, strong: true },
  { re: /\ba\.?k\.?a\.?(?![A-Za-z0-9])/gi, strong: true },
  { re: /\bnick\s?named\b|\bnick\s?name(?:\s+is|'s|s)?\b/gi, strong: true },
  { re: /\b(?:street|road|gang)\s+name(?:\s+is|'s|s)?\b/gi, strong: true },
  { re: /\b(?:his|her|their|the\s+(?:lads?|guys?|man|boy|girls?|woman|older\s+(?:lads?|boys?|one)))\s+name(?:\s+is|'s|s)\b/gi, strong: true },
  { re: /\b(?:goes|go|going|went|gone)\s+by\s+the\s+name(?:\s+of)?\b/gi, strong: true },
  { re: /\b(?:goes|go|going|went|gone)\s+by\b/gi, strong: false },
  { re: /\b(?:called|named)\b/gi, strong: false },
];

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9'\-]*/;

function isCapitalised(tok: string): boolean {
  return /^[A-Z]/.test(tok) || /\d/.test(tok) || tok.includes('-');
}

/** Read a name starting at `pos` (after a trigger). */
function readName(text: string, pos: number, strong: boolean): { name: string; end: number } | null {
  let i = pos;
  while (i < text.length && /[\s:,]/.test(text[i] as string)) i += 1;
  const quote = text[i];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, i + 1);
    if (close > i + 1 && close - i <= 31) {
      const inner = text.slice(i + 1, close).trim();
      if (inner && /[A-Za-z0-9]/.test(inner) && !inner.split(/\s+/).every(isStop)) return { name: titleCase(inner), end: close + 1 };
    }
    return null;
  }
  const tokens: string[] = [];
  let end = i;
  while (tokens.length < 3) {
    const m = TOKEN.exec(text.slice(end));
    if (!m) break;
    const tok = m[0].replace(/'s$/i, '').replace(/['\-]+$/, '');
    if (!tok || isStop(tok) || !/[A-Za-z]/.test(tok)) break;
    if (tokens.length === 0) {
      if (!strong && !isCapitalised(tok)) break;
      if (tok.length < 2 && !/^[A-Z]$/.test(tok)) break;
    } else {
      const first = tokens[0] as string;
      const joinLower = tokens.length === 1 && NAME_PREFIXES.has(first.toLowerCase());
      // After a lower-case first word only a nickname prefix ("big", "lil") may continue.
      if (!isCapitalised(first) && !joinLower) break;
      if (!isCapitalised(tok) && !joinLower) break;
    }
    tokens.push(tok);
    end += m[0].length;
    // Only continue across a single space.
    if (text[end] !== ' ' || !/[A-Za-z0-9]/.test(text[end + 1] ?? '')) break;
    end += 1;
  }
  while (tokens.length && text[end - 1] === ' ') end -= 1;
  if (!tokens.length) return null;
  return { name: tokens.map((t) => titleCase(t)).join(' '), end };
}

const LINE_NAME = /\bthe\s+(?:(['"])([^'"\n]{1,30})\1|([A-Za-z0-9][A-Za-z0-9\-]*)(?:\s+([A-Za-z0-9][A-Za-z0-9\-]*))?)\s+line\b/gi;

function extractNames(text: string, out: string[], blocked: readonly Span[]): void {
  const found: { at: number; value: string }[] = [];
  const triggerSpans: Span[] = [];
  for (const t of TRIGGERS) {
    for (const m of text.matchAll(t.re)) {
      const start = m.index ?? 0;
      const after = start + m[0].length;
      if (overlaps(triggerSpans, start, after)) continue; // e.g. "called" inside "the line is called"
      const got = readName(text, after, t.strong);
      if (!got) continue;
      if (overlaps(blocked, after, got.end)) continue;
      triggerSpans.push([start, after]);
      found.push({ at: start, value: got.name + (t.suffix ?? '') });
    }
  }
  for (const m of text.matchAll(LINE_NAME)) {
    const start = m.index ?? 0;
    let name: string | undefined;
    if (m[2]) {
      const inner = m[2].trim();
      if (inner && !inner.split(/\s+/).every(isStop)) name = titleCase(inner);
    } else {
      const a = m[3] as string;
      const b = m[4];
      if (LINE_NOT.has(a.toLowerCase()) || isStop(a)) continue;
      if (b === undefined) name = titleCase(a);
      else if (LINE_WORDS_AFTER_NAME.has(b.toLowerCase())) name = titleCase(a);
      else if (isCapitalised(b) || NAME_PREFIXES.has(a.toLowerCase())) {
        if (isStop(b)) continue;
        name = `${titleCase(a)} ${titleCase(b)}`;
      }
    }
    if (!name || /^\d+$/.test(name)) continue;
    found.push({ at: start, value: `${name} line` });
  }
  found.sort((a, b) => a.at - b.at).forEach((f) => {
    // "known as Tiny" and "the Tiny line" are different facts; keep both, but not the same string twice.
    pushUnique(out, f.value);
  });
}

// ---------------------------------------------------------------------------
// Public
// ---------------------------------------------------------------------------

/** Extract intelligence details from free text. Never throws; unknown input gives empty lists. */
export function extractEntities(text: string): Entities {
  const entities: Entities = { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] };
  if (typeof text !== 'string' || !text.trim()) return entities;
  const t = plain(text.slice(0, MAX_EXTRACT_CHARS));
  const handleSpans: Span[] = [];
  const phoneSpans: Span[] = [];
  extractHandles(t, entities.handles, handleSpans);
  extractPhones(t, entities.phones, phoneSpans);
  const taken: Span[] = [...handleSpans, ...phoneSpans];
  extractVehicles(t, entities.vehicles, taken); // adds its spans to `taken`, so "AB12 CDE" is not read as district AB12
  extractPostcodes(t, entities.postcodes, taken);
  extractAddresses(t, entities.addresses);
  extractNames(t, entities.names, handleSpans);
  return entities;
}
