/**
 * Permissions of what the station writes (docs/operator-guide.md, "Files and permissions").
 * The store and the journal are the production record: owner only, so no other account on
 * the station PC can alter or read them. Reports and the event log are meant to be handed on
 * (QA, the SM-DPf): the owner's group may read them. Modes apply when a file or folder is
 * created (the process umask can only narrow them).
 */
export const STORE_FILE_MODE = 0o600;
export const STORE_DIR_MODE = 0o700;
export const REPORT_FILE_MODE = 0o640;
export const REPORT_DIR_MODE = 0o750;
