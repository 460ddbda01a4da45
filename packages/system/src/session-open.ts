/**
 * The session-open protocol's labels, defined in `@udf/dataspace` (client and driver both
 * import them from there) and re-exported here for existing users.
 *
 * @module
 */
export { SESSION_OPEN_LABEL, SESSION_OPEN_OK, SESSION_OPEN_REFUSED } from '@udf/dataspace';
