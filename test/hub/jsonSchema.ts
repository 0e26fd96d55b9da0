// A small JSON Schema (2020-12 subset) checker for tests: type, enum, const,
// required, properties, additionalProperties, items, $ref to #/$defs,
// pattern, minimum/maximum, minLength/maxLength, uniqueItems, format date-time.
type Schema = Record<string, any>;

export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const resolve = (ref: string): Schema => {
    const m = /^#\/\$defs\/(.+)$/.exec(ref);
    if (!m || !root.$defs?.[m[1]!]) throw new Error(`unsupported $ref ${ref}`);
    return root.$defs[m[1]!];
  };
  const typeOf = (v: unknown): string =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v;
  const check = (s: Schema, v: unknown, at: string): void => {
    if (s.$ref) return check(resolve(s.$ref), v, at);
    if (s.type) {
      const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
      const t = typeOf(v);
      if (!types.some((x) => x === t || (x === 'number' && t === 'integer'))) {
        errors.push(`${at}: expected ${types.join('|')}, got ${t}`);
        return;
      }
    }
    if (s.enum && !s.enum.some((e: unknown) => e === v)) errors.push(`${at}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`);
    if ('const' in s && s.const !== v) errors.push(`${at}: expected ${JSON.stringify(s.const)}`);
    if (typeof v === 'string') {
      if (s.pattern && !new RegExp(s.pattern, 'u').test(v)) errors.push(`${at}: does not match ${s.pattern}`);
      if (s.minLength !== undefined && [...v].length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
      if (s.maxLength !== undefined && [...v].length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
      if (s.format === 'date-time' && Number.isNaN(Date.parse(v))) errors.push(`${at}: not a date-time`);
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) errors.push(`${at}: below ${s.minimum}`);
      if (s.maximum !== undefined && v > s.maximum) errors.push(`${at}: above ${s.maximum}`);
    }
    if (Array.isArray(v)) {
      if (s.items) v.forEach((x, i) => check(s.items, x, `${at}[${i}]`));
      if (s.uniqueItems && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) errors.push(`${at}: items not unique`);
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      for (const r of s.required ?? []) if (!(r in o)) errors.push(`${at}: missing ${r}`);
      for (const [k, x] of Object.entries(o)) {
        if (s.properties?.[k]) check(s.properties[k], x, `${at}.${k}`);
        else if (s.additionalProperties === false) errors.push(`${at}: unexpected property ${k}`);
        else if (s.additionalProperties && typeof s.additionalProperties === 'object') check(s.additionalProperties, x, `${at}.${k}`);
      }
    }
  };
  check(root, value, '$');
  return errors;
}
