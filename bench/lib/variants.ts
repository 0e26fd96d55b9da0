// The experiments `npm run bench -- --variant=<name>` can run instead of SpeakSafe as shipped
// (bench/variantService.ts says what each one takes out).
export const VARIANTS = ['channel-only', 'memory-state'] as const;
export type Variant = (typeof VARIANTS)[number];
