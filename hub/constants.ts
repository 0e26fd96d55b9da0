// Hub settings that are policy rather than deployment configuration.
// Deployment settings (targets, session length) live in bot/config.ts.

/** Failed sign-ins on one account before it is locked. */
export const LOCKOUT_THRESHOLD = 5;
/** How long a locked account stays locked. */
export const LOCKOUT_MINUTES = 15;
/** Failed sign-ins from one network source (any accounts) per window before that source is slowed down. */
export const LOGIN_FAILURES_PER_SOURCE = 30;
export const LOGIN_SOURCE_WINDOW_SECONDS = 15 * 60;
/** A session ends after this much inactivity, even before HUB_SESSION_HOURS. */
export const SESSION_IDLE_MINUTES = 60;
/** Write lastSeenAt at most this often (saves a write per request). */
export const SESSION_TOUCH_SECONDS = 60;
/** Passwords shorter than this are refused. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

export const QUEUE_PAGE_SIZE = 50;
export const API_PAGE_SIZE_DEFAULT = 50;
export const API_PAGE_SIZE_MAX = 200;
/** The most rows one export returns. */
export const EXPORT_MAX_ROWS = 50_000;
export const MAX_NOTE_CHARS = 5000;
export const MAX_REASON_CHARS = 2000;
export const DASHBOARD_WEEKS_DEFAULT = 12;
export const DASHBOARD_WEEKS_MAX = 104;

export const ROLES = ['triager', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['referrals:read', 'referrals:write', 'export'] as const;
export type Scope = (typeof SCOPES)[number];

export const STATUSES = ['new', 'triaged', 'assigned', 'closed'] as const;
/** Why the service itself changed a referral (labels in content/hub/labels.yml, system_reason). */
export const SYSTEM_REASONS = ['reporter_addendum'] as const;
export type Status = (typeof STATUSES)[number];

export const AGENCIES = [
  'childrens_social_care',
  'police',
  'health',
  'youth_justice',
  'housing',
  'education',
  'voluntary_sector',
  'other',
] as const;
export type Agency = (typeof AGENCIES)[number];

export const OUTCOMES = [
  'no_further_action',
  'intelligence_logged',
  'referred_on',
  'strategy_discussion',
  'nrm_referral',
  'duplicate',
  'suspected_false_or_malicious',
  'other',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** UK 3x5x2 intelligence grading. */
export const SOURCE_EVALUATIONS = ['1', '2', '3'] as const;
export const INTEL_ASSESSMENTS = ['A', 'B', 'C', 'D', 'E'] as const;
export const HANDLING_CODES = ['P', 'C'] as const;

/** Entity kinds that link referrals to each other when their values match. */
export const LINKING_ENTITY_KINDS = ['phone', 'vehicle', 'postcode', 'address', 'name', 'handle'] as const;

export const URGENCY_ORDER = ['immediate', 'high', 'standard'] as const;
export type UrgencyCode = (typeof URGENCY_ORDER)[number];
