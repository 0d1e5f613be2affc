import { IfppError } from '../../core/errors.ts';

/**
 * A station configuration that cannot be read at all (missing file, JSON syntax error, a
 * config module that throws) or, from requireConfig, one that has problems
 * (`details.problems`). Codes: CONFIG_NOT_FOUND, CONFIG_UNREADABLE, CONFIG_UNSUPPORTED,
 * CONFIG_SYNTAX, CONFIG_MODULE_FAILED, CONFIG_INVALID, LAYOUT_INVALID.
 */
export class ConfigError extends IfppError {}
