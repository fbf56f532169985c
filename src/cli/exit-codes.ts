/** Process exit codes, one meaning each. */
export const EXIT_OK = 0;
/** Something failed at run time: a check, a dropped entry in replay, an unrecoverable error. */
export const EXIT_FAILURE = 1;
/** Bad flag, env variable or config file. */
export const EXIT_USAGE = 2;
